package ai.behemoth.cli;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.Presets;
import ai.behemoth.tokenizer.ByteTokenizer;
import ai.behemoth.train.Batches;
import ai.behemoth.train.Checkpoint;
import ai.behemoth.train.Guard;
import ai.behemoth.train.GuardOptions;
import ai.behemoth.train.ParameterLayout;
import ai.behemoth.train.TrainOptions;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static ai.behemoth.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * A checkpoint crafted so that its router is known: attention adds nothing (zero weights), token t
 * embeds as the unit vector e_(t mod 4), and router row e is e_e, so every token goes to expert
 * t mod 4 (top-1). On text of "a" (97), "b" (98), "d" (100) and " " (32), expert 3 starves.
 */
class InspectExpertsCommandTest {
    @TempDir
    Path tmp;

    static final String TEXT = "bad dab abba dadd ".repeat(8); // 144 bytes: 18 windows of 8

    Path craft(Path dir) throws IOException {
        ModelConfig.Builder b = Presets.get("tiny", 256).toBuilder();
        b.dim = 8; b.heads = 2; b.kvHeads = 2; b.headDim = 4; b.layers = 1; b.experts = 4; b.topK = 1;
        b.expertHidden = 4; b.sharedExpertHidden = 0; b.moeEvery = 1; b.context = 8;
        ModelConfig c = b.build();
        ParameterLayout layout = new ParameterLayout(c);
        float[] p = new float[layout.size()];
        int emb = layout.get("tok_embeddings.weight").offset();
        for (int t = 0; t < 256; t++) p[emb + t * 8 + t % 4] = 1;
        for (String norm : new String[]{"layers.0.attention_norm.weight", "layers.0.ffn_norm.weight", "norm.weight"}) {
            ParameterLayout.Entry e = layout.get(norm);
            java.util.Arrays.fill(p, e.offset(), e.offset() + e.size(), 1f);
        }
        int router = layout.get("layers.0.feed_forward.router.weight").offset();
        for (int e = 0; e < 4; e++) p[router + e * 8 + e] = 1;
        TrainOptions o = TrainOptions.DEFAULTS;
        Checkpoint.TrainerState state = new Checkpoint.TrainerState(Checkpoint.FORMAT, "test", 1, o.seed(), o,
                new float[][]{new float[4]}, new Checkpoint.DataState(Batches.SAMPLER, o.seed(), 2, 0, 100, 10, 100, 10, "ab"),
                new Guard(GuardOptions.DEFAULTS).state());
        Checkpoint.write(dir, c, layout, new ByteTokenizer(), p, new float[p.length], new float[p.length], state);
        return dir;
    }

    static long count(String text, int expert) {
        return text.chars().filter(ch -> ch % 4 == expert).count();
    }

    @Test
    void reportsWhichTokensEachExpertGetsAndFindsTheDeadOne() throws IOException {
        Path run = tmp.resolve("run");
        Path ckpt = craft(run.resolve("final"));
        Files.writeString(run.resolve("metrics.jsonl"), "{\"step\":1,\"train_loss\":5.5,\"lr\":0.001,\"grad_norm\":1.0}\n");
        Path text = Files.writeString(tmp.resolve("text.txt"), TEXT);

        MainTest.Run r = run("inspect", "experts", "--model", ckpt.toString(), "--data", text.toString(), "--json", "--threads", "1");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertThat(report.get("tokens").asLong()).isEqualTo(TEXT.length());
        JsonNode layer = report.get("layers").get(0);
        assertThat(layer.get("dead").asInt()).isEqualTo(1);
        for (int e = 0; e < 4; e++) {
            JsonNode expert = layer.get("experts").get(e);
            assertThat(expert.get("assignments").asLong()).as("expert " + e).isEqualTo(count(TEXT, e));
            assertThat(expert.get("share").asDouble()).isCloseTo((double) count(TEXT, e) / TEXT.length(), within(1e-12));
            assertThat(expert.get("dead").asBoolean()).isEqualTo(e == 3);
        }
        JsonNode zero = layer.get("experts").get(0).get("top_tokens");
        assertThat(zero).hasSize(2); // "d" and " " only
        assertThat(zero.get(0).get("text").asText()).isEqualTo("d"); // 40 of them, 32 spaces
        assertThat(zero.get(0).get("count").asLong()).isEqualTo(40);
        assertThat(zero.get(0).get("context").asText()).isEqualTo("ba[d] da");
        assertThat(layer.get("experts").get(1).get("top_tokens").get(0).get("text").asText()).isEqualTo("a");
        assertThat(layer.get("experts").get(3).get("top_tokens")).isEmpty();
        // softmax over one logit of sqrt(8) and three of 0: the entropy is known
        double big = Math.exp(Math.sqrt(8)), z = big + 3;
        double h = -(big / z) * Math.log(big / z) - 3 * (1 / z) * Math.log(1 / z);
        assertThat(layer.get("entropy").asDouble()).isCloseTo(h, within(1e-4));

        assertThat(run.resolve("experts.json")).isRegularFile();
        String html = Files.readString(run.resolve("report.html"));
        assertThat(html).contains("What each expert eats").contains("<b>dead</b>");

        r = run("inspect", "experts", "--model", ckpt.toString(), "--data", text.toString(), "--threads", "1");
        assertThat(r.out()).contains("layer 0").contains("1 dead expert").contains("DEAD").contains("d (40)");
        assertThat(run("inspect", "experts", "--model", ckpt.toString(), "--data", tmp.resolve("none.txt").toString()).firstLine())
                .contains("none.txt");
    }
}
