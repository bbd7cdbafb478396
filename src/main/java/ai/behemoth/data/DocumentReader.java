package ai.behemoth.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads documents from one corpus file. A {@code .jsonl} file holds one document a line, in a
 * string field {@code text}; any other file is one document. A {@code .gz} suffix means gzip
 * around either. Text must be strict UTF-8 without NUL characters; what is not (a binary file, a
 * bad line) is reported as skipped and reading goes on. Documents come out NFC-normalised, with a
 * leading byte-order mark removed.
 */
public final class DocumentReader {
    /** Something that could not be read: its source ("file" or "file:line") and why. */
    public record Skipped(String source, String reason) {}

    /** Where documents go; it may fail with an IOException, which ends the reading. */
    @FunctionalInterface
    public interface DocumentSink {
        void accept(Document document) throws IOException;
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private long bytesRead;

    /** The bytes read so far from files on disk (before decompression), over all files. */
    public long bytesRead() {
        return bytesRead;
    }

    public void read(Path file, DocumentSink documents, Consumer<Skipped> skipped) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean gzip = name.endsWith(".gz");
        if (gzip) name = name.substring(0, name.length() - 3);
        boolean jsonl = name.endsWith(".jsonl");
        long before = bytesRead;
        try (InputStream raw = new Counting(Files.newInputStream(file));
             InputStream in = new BufferedInputStream(gzip ? new GZIPInputStream(raw, 1 << 16) : raw, 1 << 16)) {
            if (jsonl) readJsonLines(file.toString(), in, documents, skipped);
            else readText(file.toString(), in.readAllBytes(), documents, skipped);
        } catch (ZipException | EOFException e) {
            if (!gzip) throw e;
            skipped.accept(new Skipped(file.toString(), "not valid gzip (" + e.getMessage() + ")"));
        } finally {
            bytesRead = before + Files.size(file);
        }
    }

    private static void readText(String source, byte[] bytes, DocumentSink documents, Consumer<Skipped> skipped) throws IOException {
        String text;
        try {
            text = text(bytes);
        } catch (NotText e) {
            skipped.accept(new Skipped(source, e.getMessage()));
            return;
        }
        documents.accept(new Document(source, normalise(text)));
    }

    private static void readJsonLines(String file, InputStream in, DocumentSink documents, Consumer<Skipped> skipped) throws IOException {
        byte[] chunk = new byte[1 << 16];
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int lineNumber = 0;
        for (int n; (n = in.read(chunk)) > 0; ) {
            int start = 0;
            for (int i = 0; i < n; i++) {
                if (chunk[i] != '\n') continue;
                line.write(chunk, start, i - start);
                readJsonLine(file + ":" + ++lineNumber, line.toByteArray(), documents, skipped);
                line.reset();
                start = i + 1;
            }
            line.write(chunk, start, n - start);
        }
        if (line.size() > 0) readJsonLine(file + ":" + ++lineNumber, line.toByteArray(), documents, skipped);
    }

    /** One line of a .jsonl file: a blank line is passed over, a bad one reported as skipped. */
    private static void readJsonLine(String source, byte[] bytes, DocumentSink documents, Consumer<Skipped> skipped) throws IOException {
        String json;
        try {
            json = text(bytes);
        } catch (NotText e) {
            skipped.accept(new Skipped(source, e.getMessage()));
            return;
        }
        if (json.isBlank()) return;
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            skipped.accept(new Skipped(source, "not JSON (" + e.getOriginalMessage() + ")"));
            return;
        }
        JsonNode text = node.get("text");
        if (text == null || !text.isTextual()) {
            skipped.accept(new Skipped(source, "no string field \"text\""));
            return;
        }
        if (text.asText().indexOf('\0') >= 0) {
            skipped.accept(new Skipped(source, "binary (NUL character in \"text\")"));
            return;
        }
        documents.accept(new Document(source, normalise(text.asText())));
    }

    /** Bytes that are not text; the message says why. */
    static final class NotText extends Exception {
        NotText(String why) {
            super(why);
        }
    }

    /** The text of {@code bytes}, decoded strictly: invalid UTF-8 or a NUL byte is {@link NotText}. */
    static String text(byte[] bytes) throws NotText {
        for (int i = 0; i < bytes.length; i++) if (bytes[i] == 0) throw new NotText("binary (NUL byte at " + i + ")");
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length); // UTF-8 never gives more chars than bytes
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) throw new NotText("invalid UTF-8 at byte " + in.position());
        decoder.flush(out);
        return out.flip().toString();
    }

    private static String normalise(String text) {
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        return Normalizer.normalize(text, Normalizer.Form.NFC);
    }

    /** Counts the bytes taken from the file, so the progress bar moves within a large file. */
    private final class Counting extends FilterInputStream {
        Counting(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) bytesRead++;
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) bytesRead += n;
            return n;
        }
    }
}
