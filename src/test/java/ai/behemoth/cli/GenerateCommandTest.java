package ai.behemoth.cli;

import ai.behemoth.cli.MainTest.Run;

import ai.behemoth.format.Safetensors;
import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.TestCheckpoints;
import ai.behemoth.train.ParameterLayout;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static ai.behemoth.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code behemoth generate} and {@code bench generate}: output, reproducibility, and one-line errors for bad input. */
class GenerateCommandTest {
    @TempDir
    static Path tmp;
    static Path good;



    @BeforeAll
    static void writeCheckpoint() throws IOException {
        good = tmp.resolve("good");
        TestCheckpoints.write(good, TestCheckpoints.small("llama4"), 13);
    }

    /** A copy of the good checkpoint, to be damaged. */
    static Path copy(String name) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(good)) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        return dir;
    }

    @Test
    void streamsTextAndReportsSpeedsReproduciblyWithASeed() {
        Run a = run("generate", "--model", good.toString(), "--prompt", "Once", "--max-tokens", "12", "--seed", "4", "--temperature", "1");
        Run b = run("generate", "--model", good.toString(), "--prompt", "Once", "--max-tokens", "12", "--seed", "4", "--temperature", "1");
        assertThat(a.code()).as(a.err()).isZero();
        assertThat(a.out()).isEqualTo(b.out()).isNotBlank();
        assertThat(a.err()).contains("prompt: 4 tokens").contains("generation: 12 tokens").contains("tokens/s").contains("finish: length");
    }

    @Test
    void quantisedWeightsRun() {
        Run r = run("generate", "--model", good.toString(), "--prompt", "Hi", "--max-tokens", "3", "--quantize", "bf16", "--threads", "1");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("generation: 3 tokens");
    }

    @Test
    void promptLongerThanTheContextSaysHowMany() {
        Run r = run("generate", "--model", good.toString(), "--prompt", "a".repeat(60));
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo("behemoth: error: prompt is 60 tokens, longer than the model's context of 48 tokens");
    }

    @Test
    void emptyPromptIsAnError() {
        Run r = run("generate", "--model", good.toString(), "--prompt", "");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("empty prompt");
    }

    @Test
    void badOptionValuesAreUsageErrors() {
        assertThat(run("generate", "--model", good.toString(), "--prompt", "x", "--quantize", "q3").code()).isEqualTo(2);
        Run r = run("generate", "--model", good.toString(), "--prompt", "x", "--top-p", "2");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("top-p");
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Path dir = copy("missing");
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>(Safetensors.read(dir.resolve("model.safetensors")));
        tensors.remove("layers.1.feed_forward.experts.w2");
        Safetensors.write(dir.resolve("model.safetensors"), tensors, Map.of());
        assertOneLineError(dir, "missing tensor layers.1.feed_forward.experts.w2");
    }

    @Test
    void wrongShapeIsNamed() throws IOException {
        Path dir = copy("shape");
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>(Safetensors.read(dir.resolve("model.safetensors")));
        tensors.put("norm.weight", new Safetensors.Tensor(new int[]{32}, new float[32]));
        Safetensors.write(dir.resolve("model.safetensors"), tensors, Map.of());
        assertOneLineError(dir, "tensor norm.weight has shape [32], the config needs [64]");
    }

    @Test
    void truncatedSafetensorsIsAnError() throws IOException {
        Path dir = copy("truncated");
        Path file = dir.resolve("model.safetensors");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 1000);
        }
        assertOneLineError(dir, "truncated or corrupt");
    }

    @Test
    void badConfigIsNamed() throws IOException {
        Path dir = copy("config");
        Files.writeString(dir.resolve("config.json"), Files.readString(dir.resolve("config.json")).replace("\"heads\" : 8", "\"heads\" : 3"));
        assertOneLineError(dir, "config.json: heads (3) must be a multiple of kv_heads (2)");
        Files.writeString(dir.resolve("config.json"), "{ not json");
        assertOneLineError(dir, "config.json");
    }

    private static void assertOneLineError(Path dir, String expected) {
        Run r = run("generate", "--model", dir.toString(), "--prompt", "x", "--max-tokens", "1");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().lines().toList()).hasSize(1);
        assertThat(r.err()).startsWith("behemoth: error: ").contains(expected);
    }

    @Test
    void benchPrintsMediansAsJson() throws IOException {
        Run r = run("bench", "generate", "--model", good.toString(), "--prompt-tokens", "16", "--gen-tokens", "4", "--runs", "2",
                "--warm-up", "0");
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(5); // no warm-up asked: two runs, the allocation, the memory, the JSON
        assertThat(lines.get(0)).startsWith("run 1: prompt ");
        assertThat(lines.get(2)).startsWith("allocated: ").endsWith(" bytes per token, all threads, over the timed runs");
        assertThat(lines.get(3)).startsWith("memory: ");
        JsonNode json = new ObjectMapper().readTree(lines.get(4));
        assertThat(json.get("allocated_bytes_per_token").asDouble()).isPositive(); // two cold runs: the JIT has not compiled the kernels
        assertThat(json.get("warm_up_runs").asInt()).isZero();
        assertThat(json.get("gen_tokens_per_s_min").asDouble())
                .isLessThanOrEqualTo(json.get("gen_tokens_per_s_median").asDouble())
                .isLessThanOrEqualTo(json.get("gen_tokens_per_s_max").asDouble());
        assertThat(json.get("prompt_tokens").asInt()).isEqualTo(16);
        assertThat(json.get("prompt_tokens_per_s_median").asDouble()).isPositive();
        assertThat(json.get("gen_tokens_per_s_median").asDouble()).isPositive();
        // An F32 checkpoint's weights are its parameters, 4 bytes each; 20 positions fit the first 256 of the cache.
        ModelConfig config = TestCheckpoints.small("llama4");
        assertThat(json.get("weight_bytes").asLong()).isEqualTo(4L * new ParameterLayout(config).size());
        assertThat(json.get("kv_cache_bytes").asLong()).isEqualTo(2L * config.layers() * Math.min(256, config.context()) * config.kvDim() * 4);
        if (System.getProperty("os.name").equals("Linux"))
            assertThat(json.get("peak_rss_bytes").asLong()).isGreaterThan(json.get("weight_bytes").asLong());
    }

    /** {@code --q8-activations}: the bench says which arithmetic ran, and the interleaved copies count as weights read. */
    @Test
    void benchReportsEightBitActivations() throws IOException {
        String[] args = {"bench", "generate", "--model", good.toString(), "--prompt-tokens", "8", "--gen-tokens", "2", "--runs", "1",
                "--warm-up", "0", "--quantize", "q4_0"};
        Run exact = run(args);
        String[] withFlag = Arrays.copyOf(args, args.length + 1);
        withFlag[args.length] = "--q8-activations";
        Run q8 = run(withFlag);
        assertThat(exact.code()).as(exact.err()).isZero();
        assertThat(q8.code()).as(q8.err()).isZero();
        JsonNode a = new ObjectMapper().readTree(exact.out().lines().toList().getLast());
        JsonNode b = new ObjectMapper().readTree(q8.out().lines().toList().getLast());
        assertThat(a.get("activations").asText()).isEqualTo("float32");
        assertThat(b.get("activations").asText()).startsWith("q8_0");
        assertThat(b.get("weight_bytes").asLong()).isGreaterThan(a.get("weight_bytes").asLong());
    }

    @Test
    void benchWarmsUpForTheTimeAsked() throws IOException {
        Run r = run("bench", "generate", "--model", good.toString(), "--prompt-tokens", "8", "--gen-tokens", "2", "--runs", "1",
                "--warm-up", "0.3");
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        JsonNode json = new ObjectMapper().readTree(lines.getLast());
        int warmUps = json.get("warm_up_runs").asInt();
        assertThat(warmUps).as("warm-up ends only after two runs in a row agree").isGreaterThanOrEqualTo(2);
        assertThat(lines.subList(0, warmUps)).allMatch(line -> line.startsWith("warm-up: "));
        assertThat(lines.get(warmUps)).startsWith("run 1: ");
    }
}
