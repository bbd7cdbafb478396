package ai.behemoth.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DocumentReaderTest {
    @TempDir
    Path dir;

    final List<Document> documents = new ArrayList<>();
    final List<DocumentReader.Skipped> skipped = new ArrayList<>();

    void read(Path file) throws IOException {
        new DocumentReader().read(file, documents::add, skipped::add);
    }

    static void gzip(Path file, byte[] bytes) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(bytes);
        }
    }

    @Test
    void aTextFileIsOneNfcNormalisedDocumentWithoutItsByteOrderMark() throws IOException {
        Path f = dir.resolve("a.txt");
        Files.writeString(f, "\uFEFFcafe\u0301 line one\nline two\n"); // e + combining acute
        read(f);
        assertThat(documents).containsExactly(new Document(f.toString(), "caf\u00e9 line one\nline two\n"));
        assertThat(skipped).isEmpty();
    }

    @Test
    void jsonLinesGiveOneDocumentALineAndSkipBadLines() throws IOException {
        Path f = dir.resolve("b.jsonl");
        byte[] badUtf8 = {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}', '\n'};
        try (OutputStream out = Files.newOutputStream(f)) {
            out.write("{\"text\": \"first\\nwith a newline\", \"id\": 1}\n".getBytes(StandardCharsets.UTF_8));
            out.write("not json at all\n".getBytes(StandardCharsets.UTF_8));
            out.write(badUtf8);
            out.write("{\"title\": \"no text field\"}\n\n".getBytes(StandardCharsets.UTF_8));
            out.write("{\"text\": 42}\n".getBytes(StandardCharsets.UTF_8));
            out.write("{\"text\": \"last, no final newline \u00e9\"}".getBytes(StandardCharsets.UTF_8));
        }
        read(f);
        assertThat(documents).extracting(Document::text).containsExactly("first\nwith a newline", "last, no final newline \u00e9");
        assertThat(documents).extracting(Document::source).containsExactly(f + ":1", f + ":7");
        assertThat(skipped).extracting(DocumentReader.Skipped::source).containsExactly(f + ":2", f + ":3", f + ":4", f + ":6");
        assertThat(skipped.get(0).reason()).startsWith("not JSON");
        assertThat(skipped.get(1).reason()).isEqualTo("invalid UTF-8 at byte 9");
        assertThat(skipped.get(2).reason()).contains("no string field \"text\"");
    }

    @Test
    void gzippedTextAndJsonLinesAreRead() throws IOException {
        Path txt = dir.resolve("c.txt.gz"), jsonl = dir.resolve("d.jsonl.gz");
        gzip(txt, "zipped text\n".getBytes(StandardCharsets.UTF_8));
        gzip(jsonl, "{\"text\":\"one\"}\n{\"text\":\"two\"}\n".getBytes(StandardCharsets.UTF_8));
        DocumentReader reader = new DocumentReader();
        reader.read(txt, documents::add, skipped::add);
        reader.read(jsonl, documents::add, skipped::add);
        assertThat(documents).extracting(Document::text).containsExactly("zipped text\n", "one", "two");
        assertThat(reader.bytesRead()).isEqualTo(Files.size(txt) + Files.size(jsonl));
    }

    @Test
    void invalidUtf8BinaryAndBrokenGzipFilesAreSkippedNotFatal() throws IOException {
        Path latin1 = dir.resolve("latin1.txt"), binary = dir.resolve("image.txt"), broken = dir.resolve("broken.txt.gz");
        Files.write(latin1, "caf\u00e9".getBytes(StandardCharsets.ISO_8859_1));
        Files.write(binary, new byte[]{'P', 'N', 'G', 0, 0, 1});
        Files.write(broken, new byte[]{31, (byte) 139, 8, 0, 1, 2});
        read(latin1);
        read(binary);
        read(broken);
        assertThat(documents).isEmpty();
        assertThat(skipped).extracting(DocumentReader.Skipped::reason)
                .containsExactly("invalid UTF-8 at byte 3", "binary (NUL byte at 3)", skipped.get(2).reason());
        assertThat(skipped.get(2).reason()).startsWith("not valid gzip");
    }

    @Test
    void strictDecodingRejectsOverlongAndSurrogateEncodings() {
        byte[] overlong = {(byte) 0xC0, (byte) 0xAF};              // '/' in two bytes
        byte[] surrogate = {(byte) 0xED, (byte) 0xA0, (byte) 0x80}; // U+D800
        assertThatThrownBy(() -> DocumentReader.text(overlong)).hasMessage("invalid UTF-8 at byte 0");
        assertThatThrownBy(() -> DocumentReader.text(surrogate)).hasMessage("invalid UTF-8 at byte 0");
    }

    @Test
    void foldersAreListedRecursivelyInSortedOrderWithoutHiddenFiles() throws IOException {
        Files.createDirectories(dir.resolve("corpus/b/deep"));
        Files.createDirectories(dir.resolve("corpus/.git"));
        for (String name : List.of("corpus/z.txt", "corpus/a.txt", "corpus/b/deep/m.jsonl", "corpus/.hidden.txt", "corpus/.git/x"))
            Files.writeString(dir.resolve(name), "x");
        Path single = dir.resolve("single.txt");
        Files.writeString(single, "y");
        assertThat(CorpusFiles.list(List.of(single, dir.resolve("corpus")))).containsExactly(
                single, dir.resolve("corpus/a.txt"), dir.resolve("corpus/b/deep/m.jsonl"), dir.resolve("corpus/z.txt"));
        assertThatThrownBy(() -> CorpusFiles.list(List.of(dir.resolve("nope.txt"))))
                .isInstanceOf(java.nio.file.NoSuchFileException.class).hasMessageContaining("nope.txt");
    }
}
