package ai.behemoth.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;

/** The corpus that ships inside Behemoth: tiny Shakespeare (public domain, 1,115,394 bytes). */
public final class BundledCorpus {
    private BundledCorpus() {}

    public static final String NAME = "tinyshakespeare";
    private static final String RESOURCE = "tinyshakespeare.txt.gz";

    /** The bytes of the corpus, decompressed. */
    public static byte[] shakespeareBytes() {
        try (InputStream raw = BundledCorpus.class.getResourceAsStream(RESOURCE)) {
            if (raw == null) throw new IllegalStateException("the bundled corpus " + RESOURCE + " is missing from the jar");
            try (InputStream in = new GZIPInputStream(raw)) {
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundled corpus " + RESOURCE, e);
        }
    }

    public static String shakespeare() {
        return new String(shakespeareBytes(), StandardCharsets.UTF_8);
    }
}
