package ai.behemoth.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class TokenizerCommandTest {
    record Run(int code, String out, String err, byte[] stdout) {}

    @TempDir
    Path dir;

    private final InputStream savedIn = TokenizerCommand.stdin;
    private final OutputStream savedOut = TokenizerCommand.stdout;

    @AfterEach
    void restoreStreams() {
        TokenizerCommand.stdin = savedIn;
        TokenizerCommand.stdout = savedOut;
    }

    static Run run(byte[] stdin, String... args) {
        TokenizerCommand.stdin = new ByteArrayInputStream(stdin);
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        TokenizerCommand.stdout = stdout;
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString(), stdout.toByteArray());
    }

    static final String TEXT = "Hello, world! It's 2026.\n狐狸和狗 🦊🐶👍🏽 café cafe\u0301\r\n  trailing space, no newline ";
    static final byte[] UTF8 = TEXT.getBytes(StandardCharsets.UTF_8);

    Path corpus() throws IOException {
        Path file = dir.resolve("corpus.txt");
        Files.writeString(file, TEXT.repeat(3) + "the quick brown fox jumps over the lazy dog ".repeat(50));
        return file;
    }

    @Test
    void trainThenEncodeAndDecodeGiveBackTheExactBytes() throws IOException {
        Path out = dir.resolve("tokenizer.json");
        Run train = run(new byte[0], "tokenizer", "train", "--data", corpus().toString(), "--vocab", "300", "--out", out.toString());
        assertThat(train.code()).as(train.err()).isZero();
        assertThat(train.out()).contains("300 tokens");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("corpus.txt", "tokenizer.json");
        }
        for (String spec : new String[]{"bytes", out.toString()}) {
            Run encode = run(UTF8, "tokenizer", "encode", "--tokenizer", spec);
            assertThat(encode.code()).as(encode.err()).isZero();
            String ids = new String(encode.stdout(), StandardCharsets.US_ASCII);
            assertThat(ids).matches("[0-9]+( [0-9]+)*\n");
            Run decode = run(encode.stdout(), "tokenizer", "decode", "--tokenizer", spec);
            assertThat(decode.code()).as(decode.err()).isZero();
            assertThat(decode.stdout()).isEqualTo(UTF8);
        }
        assertThat(new String(run(UTF8, "tokenizer", "encode", "--tokenizer", "bytes").stdout(), StandardCharsets.US_ASCII))
                .startsWith("72 101 108 108 111 44 32");
    }

    @Test
    void trainRefusesBadInputWithOneLineNamingIt() throws IOException {
        Path out = dir.resolve("tokenizer.json");
        Path binary = dir.resolve("binary.bin");
        Files.write(binary, new byte[]{'a', 'b', 0, 1, 2});
        Path invalid = dir.resolve("latin1.txt");
        Files.write(invalid, new byte[]{'c', 'a', 'f', (byte) 0xE9, ' ', 'x'});
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, " \n\n ");
        Path notAFolder = dir.resolve("plain");
        Files.writeString(notAFolder, "x");

        assertOneLineError(train(dir.resolve("absent.txt"), 300, out), "absent.txt");
        assertOneLineError(train(binary, 300, out), "binary.bin looks binary");
        assertOneLineError(train(invalid, 300, out), "latin1.txt is not valid UTF-8 (bad byte sequence at offset 3)");
        assertOneLineError(train(empty, 300, out), "empty.txt is empty");
        assertOneLineError(train(dir, 300, out), "is a folder");
        assertOneLineError(train(corpus(), 100, out), "vocabulary size 100 is below the minimum 261");
        assertOneLineError(train(corpus(), 300, notAFolder.resolve("tokenizer.json")), "cannot write");
        assertOneLineError(train(corpus(), 300, dir.resolve("no/such/folder/tokenizer.json")), "does not exist");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("binary.bin", "latin1.txt", "empty.txt", "plain", "corpus.txt");
        }
    }

    @Test
    void decodeRefusesNonNumericAndOutOfRangeIds() {
        assertOneLineError(run("72 105 x7".getBytes(StandardCharsets.US_ASCII), "tokenizer", "decode", "--tokenizer", "bytes"),
                "token id 'x7' (item 3) is not a number");
        assertOneLineError(run("72\n256".getBytes(StandardCharsets.US_ASCII), "tokenizer", "decode", "--tokenizer", "bytes"),
                "token id 256 (item 2) is outside the vocabulary 0..255");
        Run empty = run(" \n".getBytes(StandardCharsets.US_ASCII), "tokenizer", "decode", "--tokenizer", "bytes");
        assertThat(empty.code()).isZero();
        assertThat(empty.stdout()).isEmpty();
    }

    @Test
    void encodeRefusesInvalidUtf8AndUnknownTokenizers() {
        assertOneLineError(run(new byte[]{'o', 'k', (byte) 0xFF}, "tokenizer", "encode", "--tokenizer", "bytes"),
                "standard input is not valid UTF-8 (bad byte sequence at offset 2)");
        assertOneLineError(run(UTF8, "tokenizer", "encode", "--tokenizer", dir.resolve("nope.json").toString()), "nope.json: no such file");
    }

    @Test
    void missingOptionIsAUsageError() {
        Run r = run(new byte[0], "tokenizer", "train", "--data", "x.txt");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--vocab").contains("Usage:");
    }

    private static Run train(Path data, int vocab, Path out) {
        return run(new byte[0], "tokenizer", "train", "--data", data.toString(), "--vocab", Integer.toString(vocab), "--out", out.toString());
    }

    private static void assertOneLineError(Run r, String message) {
        assertThat(r.code()).as("exit code; stderr: %s", r.err()).isEqualTo(1);
        assertThat(r.err()).startsWith("behemoth: error: ").contains(message);
        assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
        assertThat(r.stdout()).isEmpty();
    }
}
