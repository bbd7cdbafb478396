package ai.behemoth.cli;

import ai.behemoth.cli.MainTest.Run;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static ai.behemoth.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

class DataPrepareCommandTest {
    @TempDir
    Path dir;



    /** Three documents of 100 random words, and an exact copy of the first. */
    Path corpus() throws IOException {
        Path corpus = dir.resolve("corpus");
        Files.createDirectories(corpus);
        Random r = new Random(1);
        for (int d = 0; d < 3; d++) {
            StringBuilder text = new StringBuilder();
            for (int w = 0; w < 100; w++) text.append(Long.toString(r.nextLong() >>> 40, 36)).append(w % 20 == 19 ? "\n" : " ");
            Files.writeString(corpus.resolve("doc" + d + ".txt"), text);
        }
        Files.copy(corpus.resolve("doc0.txt"), corpus.resolve("doc3.txt"));
        return corpus;
    }

    @Test
    void preparesShardsAndPrintsWhatEachRuleRemoved() throws IOException {
        Path out = dir.resolve("shards");
        Run r = run("data", "prepare", "--in", corpus().toString(), "--out", out.toString(), "--tokenizer", "bytes");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("read 4 documents from 4 files", "kept 3, removed 1", "exact_duplicate            1",
                "too_few_words              0", "near_duplicate             0", "split by document sha256", "wrote " + out);
        assertThat(out.resolve("manifest.json")).exists();
        assertThat(out.resolve("report.json")).exists();
    }

    @Test
    void qualityFlagsReachTheFilters() throws IOException {
        Path out = dir.resolve("shards");
        Run r = run("data", "prepare", "--in", corpus().toString(), "--out", out.toString(), "--min-words", "101");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).doesNotContain("\n")
                .startsWith("behemoth: error: no usable documents").contains("3 too_few_words", "1 exact_duplicate");
        assertThat(out).doesNotExist();
    }

    @Test
    void aMissingInputIsOneLineAndExit1() {
        Path out = dir.resolve("shards");
        Run r = run("data", "prepare", "--in", dir.resolve("missing.txt").toString(), "--out", out.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("behemoth: error: no such file: " + dir.resolve("missing.txt") + System.lineSeparator());
        assertThat(out).doesNotExist();
    }

    @Test
    void anUnwritableOutputFolderIsOneLineAndExit1() throws IOException {
        Path file = dir.resolve("file");
        Files.writeString(file, "x");
        Run r = run("data", "prepare", "--in", corpus().toString(), "--out", file.resolve("shards").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).doesNotContain("\n").startsWith("behemoth: error: cannot write output folder").contains("is not a folder");
    }

    @Test
    void badValuesAreUsageErrorsNamingThem() throws IOException {
        String in = corpus().toString(), out = dir.resolve("shards").toString();
        Run fraction = run("data", "prepare", "--in", in, "--out", out, "--val-fraction", "1.5");
        assertThat(fraction.code()).isEqualTo(2);
        assertThat(fraction.err().lines().findFirst().orElseThrow()).contains("validation fraction 1.5");
        Run ngrams = run("data", "prepare", "--in", in, "--out", out, "--max-top-ngram-chars", "0.2,0.1");
        assertThat(ngrams.code()).isEqualTo(2);
        assertThat(ngrams.err().lines().findFirst().orElseThrow()).contains("top n-gram bounds need 3 values");
        Run threshold = run("data", "prepare", "--in", in, "--out", out, "--near-dup-threshold", "0");
        assertThat(threshold.code()).isEqualTo(2);
        assertThat(threshold.err().lines().findFirst().orElseThrow()).contains("near-duplicate threshold 0.0");
        assertThat(dir.resolve("shards")).doesNotExist();
    }

    @Test
    void dataAloneListsPrepare() {
        Run r = run("data");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("prepare");
    }
}
