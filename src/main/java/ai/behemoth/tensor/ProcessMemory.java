package ai.behemoth.tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * This process's resident memory as the Linux kernel counts it in {@code /proc/self/status}: the
 * peak ({@code VmHWM}, the high-water mark of the resident set since the process started), the
 * current resident set ({@code VmRSS}), and its anonymous part ({@code RssAnon}: the Java heap,
 * buffers allocated off-heap, the JVM's own memory) and file-backed part ({@code RssFile}: pages of
 * memory-mapped weight files and of the JVM's libraries). Other systems have no such file:
 * {@link #read()} is then empty.
 */
public record ProcessMemory(long peakRssBytes, long rssBytes, long rssAnonBytes, long rssFileBytes) {
    private static final Path STATUS = Path.of("/proc/self/status");

    /** The figures now, or empty where {@code /proc/self/status} does not exist or cannot be read (not Linux). */
    public static Optional<ProcessMemory> read() {
        if (!Files.isReadable(STATUS)) return Optional.empty();
        try {
            return Optional.of(parse(Files.readString(STATUS)));
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The figures of a {@code /proc/PID/status} text; IllegalArgumentException naming the field that is missing or malformed. */
    static ProcessMemory parse(String status) {
        return new ProcessMemory(field(status, "VmHWM"), field(status, "VmRSS"), field(status, "RssAnon"), field(status, "RssFile"));
    }

    /** The value of a line {@code name:   1234 kB}, in bytes. */
    private static long field(String status, String name) {
        for (String line : status.split("\n")) {
            if (!line.startsWith(name + ":")) continue;
            String value = line.substring(name.length() + 1).strip();
            if (!value.endsWith(" kB")) throw new IllegalArgumentException("/proc status field " + name + " is not in kB: '" + value + "'");
            try {
                return Long.parseLong(value.substring(0, value.length() - 3).strip()) * 1024;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("/proc status field " + name + " is not a number: '" + value + "'");
            }
        }
        throw new IllegalArgumentException("/proc status has no field " + name);
    }

    /** A line such as {@code 812.4 MB peak RSS (now 640.1 MB: 120.3 MB anonymous, 519.8 MB file-backed)}. */
    public String describe() {
        return String.format("%.1f MB peak RSS (now %.1f MB: %.1f MB anonymous, %.1f MB file-backed)",
                mb(peakRssBytes), mb(rssBytes), mb(rssAnonBytes), mb(rssFileBytes));
    }

    /** Bytes in megabytes of 10⁶ bytes. */
    public static double mb(long bytes) {
        return bytes / 1e6;
    }
}
