package ai.behemoth.data;

import ai.behemoth.tokenizer.ByteTokenizer;
import ai.behemoth.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PrepareDataTest {
    @TempDir
    Path dir;

    static final PrepareData.Progress QUIET = new PrepareData.Progress() {
        @Override
        public void start(long totalBytes) {}

        @Override
        public void at(long bytesRead) {}
    };

    static PrepareData.Options options(List<Path> inputs, Path out, double valFraction, long shardTokens, boolean force) {
        return new PrepareData.Options(inputs, out, "bytes", QualityRules.GOPHER, 0.8, valFraction, shardTokens, force);
    }

    static PrepareData.Result prepare(Path in, Path out) throws IOException {
        return PrepareData.run(options(List.of(in), out, 0.1, 100_000, false), QUIET);
    }

    /** A document that passes the Gopher rules: 5 lines of 20 random words. */
    static String document(Random r) {
        return Texts.lines(r, 5, 20) + "\n";
    }

    /** The unique documents written into corpus/, in the order the pipeline reads them. */
    List<String> writeCorpus(Path corpus, int documents) throws IOException {
        Files.createDirectories(corpus);
        Random r = new Random(42);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < documents; i++) {
            String text = document(r);
            Files.writeString(corpus.resolve("doc%02d.txt".formatted(i)), text);
            texts.add(text);
        }
        return texts;
    }

    static Map<String, byte[]> contents(Path folder) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> list = Files.list(folder)) {
            for (Path p : list.sorted().toList()) files.put(p.getFileName().toString(), Files.readAllBytes(p));
        }
        return files;
    }

    @Test
    void countsEveryRemovalAndEverySkippedFile() throws IOException {
        Path corpus = dir.resolve("corpus");
        List<String> texts = writeCorpus(corpus, 20);
        Files.writeString(corpus.resolve("exact-copy.txt"), texts.get(3));
        List<String> words = new ArrayList<>(List.of(texts.get(5).split(" ")));
        words.set(50, "changed");
        Files.writeString(corpus.resolve("near-copy.txt"), String.join(" ", words));
        Files.writeString(corpus.resolve("short.txt"), "Too short to learn from.");
        Files.write(corpus.resolve("latin1.txt"), "na\u00efve caf\u00e9".getBytes(StandardCharsets.ISO_8859_1));
        String fromJson = document(new Random(9)), fromGzip = document(new Random(10));
        Files.writeString(corpus.resolve("more.jsonl"), "{\"text\": " + quote(fromJson) + "}\n{\"text\": " + quote(texts.get(7)) + "}\n");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(corpus.resolve("packed.txt.gz")))) {
            out.write(fromGzip.getBytes(StandardCharsets.UTF_8));
        }

        PrepareData.Result result = prepare(corpus, dir.resolve("out"));
        Manifest m = result.manifest();
        assertThat(m.documents().read()).isEqualTo(20 + 3 + 2 + 1);
        assertThat(m.documents().kept()).isEqualTo(22);
        assertThat(m.documents().skipped()).isEqualTo(1);
        Map<String, Long> removed = m.documents().removed();
        assertThat(removed).containsEntry("exact_duplicate", 2L).containsEntry("near_duplicate", 1L).containsEntry("too_few_words", 1L);
        assertThat(removed.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(4);
        assertThat(removed.keySet()).hasSize(Removal.values().length);
        assertThat(result.report().skippedSources()).singleElement()
                .satisfies(s -> assertThat(s.source()).endsWith("latin1.txt"))
                .satisfies(s -> assertThat(s.reason()).isEqualTo("invalid UTF-8 at byte 2"));
        assertThat(m.train().documents() + m.val().documents()).isEqualTo(22);
        long textBytes = Stream.concat(texts.stream(), Stream.of(fromJson, fromGzip)).mapToLong(t -> t.getBytes(StandardCharsets.UTF_8).length).sum();
        assertThat(m.train().bytes() + m.val().bytes()).isEqualTo(textBytes);
        assertThat(m.train().tokens() + m.val().tokens()).as("bytes tokenizer, no end-of-text token").isEqualTo(textBytes);
        assertThat(Files.readString(dir.resolve("out/report.json"))).contains("\"near_duplicate\" : 1", "latin1.txt");
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }

    @Test
    void sameInputsGiveByteIdenticalFolders() throws IOException {
        Path corpus = dir.resolve("corpus");
        writeCorpus(corpus, 12);
        PrepareData.run(options(List.of(corpus), dir.resolve("a"), 0.25, 500, false), QUIET);
        PrepareData.run(options(List.of(corpus), dir.resolve("b"), 0.25, 500, false), QUIET);
        Map<String, byte[]> a = contents(dir.resolve("a")), b = contents(dir.resolve("b"));
        assertThat(a.keySet()).contains("manifest.json", "report.json", "train-00000.bin", "train-00001.bin", "val-00000.bin");
        assertThat(b.keySet()).isEqualTo(a.keySet());
        for (String name : a.keySet()) assertThat(b.get(name)).as(name).isEqualTo(a.get(name));
    }

    @Test
    void documentsGoToValidationByTheirSha256() throws Exception {
        Path corpus = dir.resolve("corpus");
        List<String> texts = writeCorpus(corpus, 30);
        PrepareData.run(options(List.of(corpus), dir.resolve("out"), 0.3, 100_000, false), QUIET);
        StringBuilder train = new StringBuilder(), val = new StringBuilder();
        BigDecimal twoTo256 = new BigDecimal(BigInteger.ONE.shiftLeft(256));
        for (String text : texts) {
            byte[] sha = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            double fraction = new BigDecimal(new BigInteger(1, sha)).divide(twoTo256).doubleValue();
            (fraction < 0.3 ? val : train).append(text);
        }
        assertThat(val.length()).as("some documents validate").isPositive();
        assertThat(train.length()).as("some documents train").isPositive();
        TrainingData data = TrainingData.load(dir.resolve("out"), new ByteTokenizer());
        assertThat(decode(data.val())).isEqualTo(val.toString());
        assertThat(decode(data.train())).isEqualTo(train.toString());
        assertThat(data.valBytes()).isEqualTo(val.toString().getBytes(StandardCharsets.UTF_8).length);
    }

    static String decode(int[] tokens) {
        return new String(new ByteTokenizer().decode(tokens), StandardCharsets.UTF_8);
    }

    @Test
    void aSingleDocumentIsCutAtItsFinalTenthAsTrainingDataFromTextDoes() throws IOException {
        Path file = dir.resolve("one.txt");
        String text = Texts.lines(new Random(4), 40, 20).replace("a", "\u00e4").replace("o", "\uD83D\uDE00") + "\n";
        Files.writeString(file, text);
        prepare(file, dir.resolve("out"));
        TrainingData fromShards = TrainingData.load(dir.resolve("out"), new ByteTokenizer());
        TrainingData fromText = TrainingData.fromText(text, new ByteTokenizer());
        assertThat(fromShards.train()).isEqualTo(fromText.train());
        assertThat(fromShards.val()).isEqualTo(fromText.val());
        assertThat(fromShards.trainBytes()).isEqualTo(fromText.trainBytes());
        assertThat(fromShards.valBytes()).isEqualTo(fromText.valBytes());
        assertThat(decode(fromShards.train()) + decode(fromShards.val())).isEqualTo(text);
    }

    @Test
    void tinyShakespearePassesTheDefaultFiltersAndSplitsLikeNanoGpt() throws IOException {
        Path file = dir.resolve("tinyshakespeare.txt");
        Files.write(file, BundledCorpus.shakespeareBytes());
        PrepareData.Result result = prepare(file, dir.resolve("out"));
        assertThat(result.manifest().documents().kept()).isEqualTo(1);
        assertThat(result.manifest().train().tokens()).isEqualTo(1_003_854);
        assertThat(result.manifest().val().tokens()).isEqualTo(111_540);
        TrainingData bundled = TrainingData.load(null, new ByteTokenizer());
        TrainingData shards = TrainingData.load(dir.resolve("out"), new ByteTokenizer());
        assertThat(shards.train()).isEqualTo(bundled.train());
        assertThat(shards.val()).isEqualTo(bundled.val());
    }

    @Test
    void manifestRecordsEachShardsSha256AndLoadingChecksThem() throws Exception {
        Path corpus = dir.resolve("corpus"), out = dir.resolve("out");
        writeCorpus(corpus, 8);
        Manifest m = PrepareData.run(options(List.of(corpus), out, 0.2, 700, false), QUIET).manifest();
        assertThat(m.tokenizer().sha256()).isEqualTo(hex(MessageDigest.getInstance("SHA-256").digest("bytes".getBytes(StandardCharsets.UTF_8))));
        assertThat(m.tokenizer().vocabSize()).isEqualTo(256);
        assertThat(m.dtype()).isEqualTo("uint16");
        List<Manifest.Shard> shards = new ArrayList<>(m.train().shards());
        shards.addAll(m.val().shards());
        assertThat(shards).hasSizeGreaterThan(2);
        for (Manifest.Shard s : shards) {
            byte[] bytes = Files.readAllBytes(out.resolve(s.name()));
            assertThat(hex(MessageDigest.getInstance("SHA-256").digest(bytes))).as(s.name()).isEqualTo(s.sha256());
            assertThat(bytes.length).isEqualTo(2 * s.tokens());
            assertThat(s.tokens()).isLessThanOrEqualTo(700);
        }
        assertThat(Manifest.read(out)).isEqualTo(m);

        Path shard = out.resolve("train-00001.bin");
        byte[] bytes = Files.readAllBytes(shard);
        bytes[10] ^= 1;
        Files.write(shard, bytes);
        assertThatThrownBy(() -> TrainingData.load(out, new ByteTokenizer()))
                .isInstanceOf(IOException.class).hasMessageContaining("train-00001.bin").hasMessageContaining("SHA-256");
    }

    @Test
    void loadingWithAnotherTokenizerIsAnErrorNamingTheManifest() throws IOException {
        Path corpus = dir.resolve("corpus"), out = dir.resolve("out");
        writeCorpus(corpus, 3);
        prepare(corpus, out);
        Tokenizer other = new BytesWithEndOfText() {
            @Override
            public int vocabSize() {
                return 256; // same size as the byte tokenizer, one token differs
            }

            @Override
            public byte[] tokenBytes(int id) {
                return id == 'A' ? new byte[]{'a'} : super.tokenBytes(id);
            }
        };
        assertThatThrownBy(() -> TrainingData.load(out, other))
                .isInstanceOf(IOException.class).hasMessageContaining("manifest.json").hasMessageContaining("tokenizer bytes");
        assertThatThrownBy(() -> TrainingData.load(corpus, new ByteTokenizer()))
                .isInstanceOf(IOException.class).hasMessageContaining("no manifest.json");
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    @Test
    void dtypeIsUint16WhenEveryIdFitsElseUint32() throws IOException {
        assertThat(Shards.dtype(256)).isEqualTo("uint16");
        assertThat(Shards.dtype(65_536)).isEqualTo("uint16");
        assertThat(Shards.dtype(65_537)).isEqualTo("uint32");
        assertThat(Shards.dtype(128_256)).isEqualTo("uint32");

        int[] ids = {0, 65_535, 65_536, 128_255, 7, 1 << 20};
        List<Manifest.Shard> shards;
        try (Shards.Writer w = new Shards.Writer(dir, "train", "uint32", 4)) {
            w.write(ids);
            w.close();
            shards = w.shards();
        }
        assertThat(shards).extracting(Manifest.Shard::tokens).containsExactly(4L, 2L);
        assertThat(Files.readAllBytes(dir.resolve("train-00001.bin"))).containsExactly(7, 0, 0, 0, 0, 0, 0x10, 0);
        assertThat(Shards.read(dir, new Manifest.Split(1, 6, 6, shards), "uint32")).containsExactly(ids);

        int[] small = {0, 255, 65_535, 1};
        try (Shards.Writer w = new Shards.Writer(dir, "val", "uint16", 100)) {
            w.write(small);
            w.close();
            assertThat(Files.readAllBytes(dir.resolve("val-00000.bin"))).containsExactly(0, 0, 255, 0, 255, 255, 1, 0);
            assertThat(Shards.read(dir, new Manifest.Split(1, 4, 4, w.shards()), "uint16")).containsExactly(small);
        }
    }

    @Test
    void aMissingInputIsAnErrorAndNothingIsWritten() {
        Path out = dir.resolve("out");
        assertThatThrownBy(() -> prepare(dir.resolve("missing.txt"), out))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining("missing.txt");
        assertThat(out).doesNotExist();
    }

    @Test
    void anEmptyCorpusIsAnErrorAndLeavesNoFolderBehind() throws IOException {
        Path corpus = dir.resolve("corpus");
        Files.createDirectories(corpus);
        Files.writeString(corpus.resolve("short.txt"), "Only a few words.");
        Files.write(corpus.resolve("binary.txt"), new byte[]{1, 0, 2});
        Path out = dir.resolve("new/deeper/out");
        assertThatThrownBy(() -> prepare(corpus, out))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("no usable documents").hasMessageContaining("1 too_few_words").hasMessageContaining("1 files or lines skipped");
        assertThat(dir.resolve("new")).doesNotExist();
        try (Stream<Path> left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactly("corpus");
        }
    }

    @Test
    void anOutputFolderUnderARegularFileIsAnError() throws IOException {
        Path corpus = dir.resolve("corpus");
        writeCorpus(corpus, 2);
        Path file = dir.resolve("file");
        Files.writeString(file, "not a folder");
        assertThatThrownBy(() -> prepare(corpus, file.resolve("out")))
                .isInstanceOf(IOException.class).hasMessageContaining("cannot write output folder").hasMessageContaining("is not a folder");
        assertThat(Files.readString(file)).isEqualTo("not a folder");
    }

    @Test
    void anExistingNonEmptyOutputFolderNeedsForce() throws IOException {
        Path corpus = dir.resolve("corpus"), out = dir.resolve("out");
        writeCorpus(corpus, 2);
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "mine");
        assertThatThrownBy(() -> prepare(corpus, out)).isInstanceOf(IOException.class).hasMessageContaining("--force");
        assertThat(Files.readString(out.resolve("keep.txt"))).isEqualTo("mine");

        PrepareData.run(options(List.of(corpus), out, 0.1, 1000, true), QUIET);
        assertThat(out.resolve("keep.txt")).doesNotExist();
        assertThat(out.resolve("manifest.json")).exists();
        try (Stream<Path> left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("corpus", "out");
        }
    }

    /** The byte tokenizer plus one special token, {@code <|end_of_text|>}, with id 256. */
    static class BytesWithEndOfText implements Tokenizer {
        final ByteTokenizer bytes = new ByteTokenizer();

        @Override
        public int vocabSize() {
            return 257;
        }

        @Override
        public int[] encode(String text) {
            return bytes.encode(text);
        }

        @Override
        public byte[] decode(int[] ids) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public byte[] tokenBytes(int id) {
            return id == 256 ? PrepareData.END_OF_TEXT.getBytes(StandardCharsets.UTF_8) : bytes.tokenBytes(id);
        }

        @Override
        public OptionalInt specialToken(String text) {
            return text.equals(PrepareData.END_OF_TEXT) ? OptionalInt.of(256) : OptionalInt.empty();
        }

        @Override
        public void save(Path file) {
            throw new UnsupportedOperationException("not needed here");
        }
    }

    @Test
    void documentsAreJoinedWithTheEndOfTextTokenWhenTheTokenizerHasOne() throws IOException {
        Path corpus = dir.resolve("corpus"), out = dir.resolve("out");
        List<String> texts = writeCorpus(corpus, 10);
        Tokenizer tokenizer = new BytesWithEndOfText();
        Manifest m = PrepareData.run(options(List.of(corpus), out, 0.0, 100_000, false), tokenizer, QUIET).manifest();
        assertThat(m.tokenizer().endOfText()).isEqualTo(256);
        assertThat(m.val().tokens()).isZero();
        TrainingData data = TrainingData.load(out, tokenizer);
        List<Integer> expected = new ArrayList<>();
        for (String text : texts) {
            if (!expected.isEmpty()) expected.add(256);
            for (int id : tokenizer.encode(text)) expected.add(id);
        }
        assertThat(data.train()).containsExactly(expected.stream().mapToInt(Integer::intValue).toArray());
        assertThatThrownBy(() -> TrainingData.load(out, new ByteTokenizer()))
                .isInstanceOf(IOException.class).hasMessageContaining("vocabulary 257").hasMessageContaining("vocabulary 256");
    }
}
