package ai.behemoth.cli;

import ai.behemoth.data.BundledCorpus;
import ai.behemoth.tokenizer.BpeTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The bench's output format and counts; its timings are reported, never asserted. */
class BenchTokenizerCommandTest {
    @Test
    void printsOneJsonLineWithTheMedians() throws Exception {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter();
        cli.setOut(new PrintWriter(out));
        assertThat(cli.execute("bench", "tokenizer", "--vocab", "300", "--runs", "1")).isZero();
        List<String> lines = out.toString().lines().toList();
        assertThat(lines).hasSize(3); // the warm-up, run 1, the JSON
        JsonNode result = new ObjectMapper().readTree(lines.get(2));
        String corpus = BundledCorpus.shakespeare();
        assertThat(result.get("vocab").asInt()).isEqualTo(300);
        assertThat(result.get("tokens").asInt()).isEqualTo(BpeTokenizer.train(corpus, 300).encode(corpus).length);
        for (String field : new String[]{"train_seconds_median", "train_cpu_seconds_median", "encode_cold_mb_per_s_median",
                "encode_cold_cpu_mb_per_s_median", "encode_warm_mb_per_s_median", "encode_warm_cpu_mb_per_s_median"}) {
            assertThat(result.get(field).asDouble()).as(field).isPositive();
        }
    }
}
