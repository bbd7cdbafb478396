package ai.behemoth.train;

import ai.behemoth.format.Safetensors;
import ai.behemoth.format.Safetensors.Tensor;
import ai.behemoth.model.ModelConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The whole training model against golden values from an independent PyTorch model
 * ({@code tools/torch_reference.py}, computed in float64): loss parts, logits, every parameter's
 * gradient and the router statistics, for each fixture folder under {@code golden/}.
 *
 * <p>Tolerance, per tensor: {@code |a − b| ≤ RTOL · max(|b|, FLOOR · max|b|)}. Elements well below the
 * tensor's largest get an absolute allowance instead of a relative one, because float32 rounding
 * error there is set by the size of the terms summed, not by the small result; PyTorch's own float32
 * run of the same fixtures lands at most 0.3 of this tolerance (the generator checks that).
 */
class GoldenTest {
    static final double RTOL = 1e-4;
    static final double FLOOR = 3e-2;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One fixture folder, loaded. */
    record Fixture(String name, ModelConfig config, Balance balance, float[][] bias, int batch, int seq,
                   int[] tokens, int[] targets, Map<String, Tensor> weights, Map<String, Tensor> expected,
                   JsonNode expectedJson) {

        static Fixture load(String name) throws IOException {
            Path dir = root().resolve(name);
            ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
            JsonNode balanceJson = JSON.readTree(dir.resolve("balance.json").toFile());
            Balance balance = new Balance(Balance.Mode.valueOf(balanceJson.get("mode").asText().toUpperCase()),
                    balanceJson.get("aux_alpha").asDouble(), balanceJson.get("z_loss").asDouble(), 0);
            float[][] bias = null;
            if (balanceJson.has("bias")) {
                bias = new float[balanceJson.get("bias").size()][];
                for (int m = 0; m < bias.length; m++) bias[m] = floats(balanceJson.get("bias").get(m));
            }
            JsonNode batchJson = JSON.readTree(dir.resolve("batch.json").toFile());
            return new Fixture(name, config, balance, bias, batchJson.get("batch").asInt(), batchJson.get("seq").asInt(),
                    ints(batchJson.get("tokens")), ints(batchJson.get("targets")),
                    Safetensors.read(dir.resolve("weights.safetensors")),
                    Safetensors.read(dir.resolve("expected.safetensors")),
                    JSON.readTree(dir.resolve("expected.json").toFile()));
        }
    }

    static Path root() {
        try {
            return Path.of(GoldenTest.class.getResource("/golden").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Stream<String> cases() throws IOException {
        try (Stream<Path> dirs = Files.list(root())) {
            return dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList().stream();
        }
    }

    @Test
    void everyFamilyHasFixtures() throws IOException {
        assertThat(cases()).contains("tiny", "mixtral_gqa", "qwen3moe", "llama4", "dense", "auxfree_sigmoid");
    }

    /** The fixture itself fits the contracts: runs without the model, so a broken fixture shows up on its own. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void fixtureMatchesTheLayout(String name) throws IOException {
        Fixture f = Fixture.load(name);
        ModelConfig c = f.config();
        ParameterLayout layout = new ParameterLayout(c);
        TreeSet<String> names = new TreeSet<>();
        for (ParameterLayout.Entry e : layout.entries()) {
            names.add(e.name());
            assertThat(f.weights()).as("weights.safetensors of %s", name).containsKey(e.name());
            assertThat(f.weights().get(e.name()).shape()).as("shape of %s", e.name()).isEqualTo(e.shape());
            assertThat(f.expected()).as("expected.safetensors of %s", name).containsKey("grad." + e.name());
            assertThat(f.expected().get("grad." + e.name()).shape()).as("shape of grad.%s", e.name()).isEqualTo(e.shape());
        }
        assertThat(new TreeSet<>(f.weights().keySet())).as("weights beyond the layout").isEqualTo(names);
        assertThat(f.expected()).hasSize(names.size() + 1);
        assertThat(f.expected().get("logits").shape()).containsExactly(f.batch() * f.seq(), c.vocabSize());
        assertThat(f.tokens()).hasSize(f.batch() * f.seq());
        assertThat(f.targets()).hasSize(f.batch() * f.seq());
        assertThat(IntStream.concat(Arrays.stream(f.tokens()), Arrays.stream(f.targets())))
                .allMatch(t -> t >= 0 && t < c.vocabSize());
        assertThat(f.seq()).isLessThanOrEqualTo(c.context());

        List<Integer> moeLayers = new ArrayList<>();
        for (int i = 0; i < c.layers(); i++) if (c.isMoeLayer(i)) moeLayers.add(i);
        JsonNode router = f.expectedJson().get("router");
        assertThat(router).hasSize(moeLayers.size());
        for (int m = 0; m < moeLayers.size(); m++) {
            assertThat(router.get(m).get("layer").asInt()).isEqualTo(moeLayers.get(m));
            assertThat(Arrays.stream(ints(router.get(m).get("counts"))).sum()).isEqualTo(f.batch() * f.seq() * c.topK());
        }
        if (f.balance().mode() == Balance.Mode.AUX_FREE) {
            assertThat(f.bias()).hasNumberOfRows(moeLayers.size());
            for (float[] b : f.bias()) assertThat(b).hasSize(c.experts());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesPyTorch(String name) throws IOException {
        Fixture f = Fixture.load(name);
        int n = f.batch() * f.seq(), vocab = f.config().vocabSize();
        // Room for a larger batch than the fixture's, and a first pass over other tokens at that size,
        // so that the comparison also covers strides and state left over from an earlier step.
        int maxBatch = f.batch() + 1, maxSeq = Math.min(f.seq() + 3, f.config().context());
        Transformer model = new Transformer(f.config(), f.balance(), maxBatch, maxSeq);
        ParameterLayout layout = model.layout();
        float[] params = model.params();
        for (ParameterLayout.Entry e : layout.entries())
            System.arraycopy(f.weights().get(e.name()).data(), 0, params, e.offset(), e.size());
        if (f.bias() != null) {
            float[][] bias = model.routerBias();
            assertThat(bias).as("router bias arrays, one per MoE layer").hasNumberOfRows(f.bias().length);
            for (int m = 0; m < bias.length; m++) System.arraycopy(f.bias()[m], 0, bias[m], 0, bias[m].length);
        }
        int[] other = new int[maxBatch * maxSeq];
        for (int i = 0; i < other.length; i++) other[i] = (7 * i + 3) % vocab;
        model.zeroGrads();
        model.forward(other, other, maxBatch, maxSeq);
        model.backward();

        model.zeroGrads();
        Loss loss = model.forward(f.tokens(), f.targets(), f.batch(), f.seq());
        model.backward();

        List<String> failures = new ArrayList<>();
        JsonNode want = f.expectedJson();
        checkScalar(failures, "loss.total", loss.total(), want.get("total").asDouble());
        checkScalar(failures, "loss.ce", loss.ce(), want.get("ce").asDouble());
        checkScalar(failures, "loss.aux", loss.aux(), want.get("aux").asDouble());
        checkScalar(failures, "loss.z", loss.z(), want.get("z").asDouble());

        List<RouterStats> stats = model.routerStats();
        JsonNode router = want.get("router");
        if (stats.size() != router.size()) {
            failures.add("router stats: " + stats.size() + " MoE layers, expected " + router.size());
        } else {
            for (int m = 0; m < stats.size(); m++) checkRouter(failures, stats.get(m), router.get(m));
        }

        List<Mismatch> mismatches = new ArrayList<>();
        mismatches.add(Mismatch.of("logits", f.expected().get("logits").shape(),
                Arrays.copyOf(model.logits(), n * vocab), f.expected().get("logits").data()));
        float[] grads = model.grads();
        for (ParameterLayout.Entry e : layout.entries()) {
            Tensor expected = f.expected().get("grad." + e.name());
            mismatches.add(Mismatch.of("grad." + e.name(), e.shape(),
                    Arrays.copyOfRange(grads, e.offset(), e.offset() + e.size()), expected.data()));
        }
        mismatches.sort(Comparator.comparingDouble(Mismatch::ratio).reversed());
        for (Mismatch m : mismatches) if (!m.passes()) failures.add(m.toString());
        if (!failures.isEmpty())
            fail(name + ": " + failures.size() + " mismatches against PyTorch (tolerance " + RTOL + " · max(|b|, "
                    + FLOOR + " · max|b|)); worst tensor first:\n  " + String.join("\n  ", failures));
    }

    @Test
    void toleranceTellsRoundingFromError() {
        float[] expected = {1f, -0.5f, 0.001f, 0f};
        assertThat(Mismatch.of("t", new int[]{4}, expected.clone(), expected).passes()).isTrue();
        // 0.5e-4 relative on the largest element: inside.
        assertThat(Mismatch.of("t", new int[]{4}, new float[]{1.00005f, -0.5f, 0.001f, 0f}, expected).passes()).isTrue();
        // 2e-4 relative on the largest element: outside, and reported at that index.
        Mismatch off = Mismatch.of("t", new int[]{2, 2}, new float[]{1f, -0.5f, 0.001f, 0.0002f}, expected);
        assertThat(off.passes()).isFalse();
        assertThat(off.toString()).contains("t[1, 1]");
        // A small element may be off by RTOL·FLOOR·max|b| absolute (3e-6 here), not by RTOL of itself.
        assertThat(Mismatch.of("t", new int[]{4}, new float[]{1f, -0.5f, 0.000998f, 0f}, expected).passes()).isTrue();
        assertThat(Mismatch.of("t", new int[]{4}, new float[]{1f, -0.5f, 0.00099f, 0f}, expected).passes()).isFalse();
        assertThat(Mismatch.of("t", new int[]{4}, new float[]{Float.NaN, -0.5f, 0.001f, 0f}, expected).passes()).isFalse();
    }

    /** The worst element of one tensor under the tolerance: ratio ≤ 1 passes. */
    record Mismatch(String tensor, int[] shape, int index, double ratio, float actual, float expected) {
        static Mismatch of(String tensor, int[] shape, float[] actual, float[] expected) {
            double max = 0;
            for (float v : expected) max = Math.max(max, Math.abs(v));
            double floor = Math.max(FLOOR * max, Double.MIN_NORMAL);
            int worst = 0;
            double worstRatio = -1;
            for (int i = 0; i < expected.length; i++) {
                double ratio = Math.abs((double) actual[i] - expected[i]) / (RTOL * Math.max(Math.abs(expected[i]), floor));
                if (Double.isNaN(ratio)) ratio = Double.POSITIVE_INFINITY;
                if (ratio > worstRatio) {
                    worstRatio = ratio;
                    worst = i;
                }
            }
            return new Mismatch(tensor, shape, worst, worstRatio, actual[worst], expected[worst]);
        }

        boolean passes() {
            return ratio <= 1;
        }

        @Override
        public String toString() {
            int[] at = new int[shape.length];
            for (int d = shape.length - 1, rest = index; d >= 0; d--) {
                at[d] = rest % shape[d];
                rest /= shape[d];
            }
            return String.format("%s%s: got %.7g, expected %.7g (%.3g× the tolerance)", tensor, Arrays.toString(at),
                    actual, expected, ratio);
        }
    }

    private static void checkScalar(List<String> failures, String what, double actual, double expected) {
        if (!(Math.abs(actual - expected) <= RTOL * Math.max(Math.abs(expected), 1e-6)))
            failures.add(String.format("%s: got %.9g, expected %.9g", what, actual, expected));
    }

    private static void checkRouter(List<String> failures, RouterStats got, JsonNode want) {
        String where = "router layer " + want.get("layer").asInt() + " ";
        if (got.layer() != want.get("layer").asInt()) failures.add(where + "reported as layer " + got.layer());
        long[] counts = Arrays.stream(ints(want.get("counts"))).asLongStream().toArray();
        if (!Arrays.equals(got.counts(), counts))
            failures.add(where + "counts " + Arrays.toString(got.counts()) + ", expected " + Arrays.toString(counts));
        if (got.dead() != want.get("dead").asInt())
            failures.add(where + "dead " + got.dead() + ", expected " + want.get("dead").asInt());
        double[] load = new double[want.get("load").size()];
        for (int e = 0; e < load.length; e++) load[e] = want.get("load").get(e).asDouble();
        for (int e = 0; e < load.length && e < got.load().length; e++)
            checkScalar(failures, where + "load[" + e + "]", got.load()[e], load[e]);
        if (got.load().length != load.length) failures.add(where + "load has " + got.load().length + " experts");
        checkScalar(failures, where + "max_vio", got.maxVio(), want.get("max_vio").asDouble());
        checkScalar(failures, where + "entropy", got.entropy(), want.get("entropy").asDouble());
        checkScalar(failures, where + "aux", got.aux(), want.get("aux").asDouble());
        checkScalar(failures, where + "z", got.z(), want.get("z").asDouble());
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    private static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) array.get(i).asDouble();
        return out;
    }
}
