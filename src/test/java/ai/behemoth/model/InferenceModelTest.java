package ai.behemoth.model;

import ai.behemoth.format.Safetensors;
import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.train.Balance;
import ai.behemoth.train.Transformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The inference path against the training forward, and chunked prefill against token-by-token decode. */
class InferenceModelTest {
    private static final int TOKENS = 21;

    @TempDir
    Path tmp;

    static int[] ids(long seed, int n) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = random.nextInt(256);
        return ids;
    }

    /** Logits of every row, computed in chunks of {@code chunk} rows. */
    static float[][] allLogits(InferenceModel model, int[] tokens, int chunk) {
        Sequence seq = model.newSequence();
        Batch batch = model.newBatch();
        float[][] out = new float[tokens.length][];
        for (int start = 0; start < tokens.length; start += chunk) {
            batch.clear();
            int end = Math.min(tokens.length, start + chunk);
            for (int i = start; i < end; i++) batch.add(seq, tokens[i], true);
            model.forward(batch);
            for (int i = start; i < end; i++) out[i] = batch.logits(i - start);
        }
        assertThat(seq.length()).isEqualTo(tokens.length);
        return out;
    }

    /** max |a − b| / max |b| over every logit. */
    static double relativeError(float[][] a, float[] b, int vocab) {
        double maxDiff = 0, maxRef = 0;
        for (int t = 0; t < a.length; t++) {
            for (int i = 0; i < vocab; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(a[t][i] - b[t * vocab + i]));
                maxRef = Math.max(maxRef, Math.abs(b[t * vocab + i]));
            }
        }
        return maxDiff / maxRef;
    }

    /**
     * Equal up to float rounding: a row computed in a batch of another size goes through another
     * kernel (a quantised row dotted in place below four rows, dequantised and tiled from four), which
     * sums in another order.
     */
    static void assertClose(float[] actual, float[] expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < actual.length; i++)
            assertThat((double) actual[i]).as("logit %d", i).isCloseTo(expected[i], within(1e-5));
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "mixtral", "qwen3moe", "llama4", "dense", "qwen3"})
    void logitsEqualTheTrainingForward(String preset) throws Exception {
        ModelConfig config = TestCheckpoints.small(preset);
        Transformer training = TestCheckpoints.write(tmp.resolve(preset), config, 7);
        int[] tokens = ids(11, TOKENS);
        training.forward(tokens, null, 1, TOKENS);
        float[] expected = Arrays.copyOf(training.logits(), TOKENS * config.vocabSize());
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(tmp.resolve(preset), null), 8)) {
            float[][] got = allLogits(model, tokens, 8);
            assertThat(relativeError(got, expected, config.vocabSize())).isLessThan(1e-4);
        }
    }

    /**
     * Llama 4 with chunks of 4 on the RoPE layers 0-2 and attention temperature (floor 2, scale 0.5)
     * on the NoPE layer 3, so that both act within 21 tokens: the engine's logits against the
     * training forward's, and against the same weights without them (which must differ, or this
     * test could not see either rule ignored).
     */
    @Test
    void llama4ChunksAndTemperatureEqualTheTrainingForward() throws Exception {
        ModelConfig config = chunkedLlama4();
        Transformer training = TestCheckpoints.write(tmp.resolve("l4"), config, 7);
        int[] tokens = ids(11, TOKENS);
        training.forward(tokens, null, 1, TOKENS);
        float[] expected = Arrays.copyOf(training.logits(), TOKENS * config.vocabSize());
        float[][] got;
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(tmp.resolve("l4"), null), 8)) {
            got = allLogits(model, tokens, 8);
            assertThat(relativeError(got, expected, config.vocabSize())).isLessThan(1e-4);
        }
        ModelConfig.Builder plain = config.toBuilder();
        plain.attentionChunk = 0;
        plain.temperatureFloor = 0;
        plain.temperatureScale = 0;
        Files.writeString(tmp.resolve("l4").resolve("config.json"), plain.build().toJson());
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(tmp.resolve("l4"), null), 8)) {
            float[][] full = allLogits(model, tokens, 8);
            assertThat(relativeError(full, expected, config.vocabSize())).isGreaterThan(1e-2);
            assertClose(full[0], got[0]); // position 0: its chunk holds only itself, and its temperature is 1
        }
    }

    /** Beyond the 256 positions tabulated at first, the RoPE tables grow: 300 tokens against the training forward. */
    @Test
    void ropeTablesGrowWithThePositionsUsed() throws Exception {
        ModelConfig.Builder b = TestCheckpoints.small("qwen3").toBuilder();
        b.context = 320;
        b.layers = 2;
        ModelConfig config = b.build();
        Transformer training = TestCheckpoints.write(tmp.resolve("long"), config, 4);
        int[] tokens = ids(8, 300);
        training.forward(tokens, null, 1, tokens.length);
        float[] expected = Arrays.copyOf(training.logits(), tokens.length * config.vocabSize());
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(tmp.resolve("long"), null), 64)) {
            assertThat(relativeError(allLogits(model, tokens, 64), expected, config.vocabSize())).isLessThan(1e-4);
        }
    }

    static ModelConfig chunkedLlama4() {
        ModelConfig.Builder b = TestCheckpoints.small("llama4").toBuilder();
        b.attentionChunk = 4;
        b.temperatureFloor = 2;
        b.temperatureScale = 0.5;
        return b.build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3moe", "llama4", "llama4-chunked"})
    void chunkedPrefillEqualsTokenByTokenDecode(String preset) throws Exception {
        ModelConfig config = preset.equals("llama4-chunked") ? chunkedLlama4() : TestCheckpoints.small(preset);
        TestCheckpoints.write(tmp.resolve(preset), config, 3);
        int[] tokens = ids(5, TOKENS);
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(tmp.resolve(preset), null), 16)) {
            float[][] chunked = allLogits(model, tokens, 16);
            Sequence seq = model.newSequence();
            for (int i = 0; i < tokens.length; i++) {
                float[] step = model.decode(seq, tokens[i]);
                for (int j = 0; j < step.length; j++)
                    assertThat((double) step[j]).as("position %d logit %d", i, j).isCloseTo(chunked[i][j], within(1e-5));
            }
            float[] last = model.prefill(model.newSequence(), tokens);
            assertClose(last, chunked[TOKENS - 1]);
        }
    }

    /**
     * Converted weights against F32, as max |error| / max |logit|. The bounds follow each type's
     * precision: BF16 keeps 8 mantissa bits, F16 11; Q8_0 stores 8-bit values per block of 32 with
     * one scale, Q4_0 4-bit ones.
     */
    @ParameterizedTest
    @CsvSource({"F16, 2e-3", "BF16, 1e-2", "Q8_0, 4e-2", "Q4_0, 0.35"})
    void convertedWeightsStayCloseToF32(String type, double bound) throws Exception {
        ModelConfig config = TestCheckpoints.small("mixtral");
        TestCheckpoints.write(tmp.resolve("m"), config, 9);
        int[] tokens = ids(2, 12);
        float[][] exact, approx;
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(tmp.resolve("m"), null), 8)) {
            exact = allLogits(model, tokens, 8);
        }
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(tmp.resolve("m"), GgmlType.valueOf(type)), 8)) {
            assertThat(model.weights().layers().get(0).wq().type()).isEqualTo(GgmlType.valueOf(type));
            approx = allLogits(model, tokens, 8);
        }
        float[] flat = new float[tokens.length * config.vocabSize()];
        for (int t = 0; t < tokens.length; t++) System.arraycopy(exact[t], 0, flat, t * config.vocabSize(), config.vocabSize());
        assertThat(relativeError(approx, flat, config.vocabSize())).isLessThan(bound).isGreaterThan(0);
    }

    /**
     * 8-bit activations ({@link ModelWeights#withQ8Activations}): decode steps, and prompt chunks
     * (whose experts see few rows), stay within the activations' rounding of the exact logits of the
     * same weights (max |error| / max |logit|) without equalling them.
     */
    @ParameterizedTest
    @ValueSource(strings = {"Q4_0", "Q8_0"})
    void q8ActivationsStayCloseToExact(String typeName) throws Exception {
        GgmlType type = GgmlType.valueOf(typeName);
        ModelConfig config = TestCheckpoints.small("mixtral");
        TestCheckpoints.write(tmp.resolve("m"), config, 9);
        int[] tokens = ids(2, 12);
        float[][] exactSteps, exactChunks, q8Steps, q8Chunks;
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(tmp.resolve("m"), type), 8)) {
            exactSteps = allLogits(model, tokens, 1);
            exactChunks = allLogits(model, tokens, 6);
        }
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(tmp.resolve("m"), type).withQ8Activations(), 8)) {
            assertThat(model.weights().layers().get(0).wq().q8Groups()).isNotNull();
            q8Steps = allLogits(model, tokens, 1);
            q8Chunks = allLogits(model, tokens, 6);
        }
        int vocab = config.vocabSize();
        float[] steps = new float[tokens.length * vocab], chunks = new float[tokens.length * vocab];
        for (int t = 0; t < tokens.length; t++) {
            System.arraycopy(exactSteps[t], 0, steps, t * vocab, vocab);
            System.arraycopy(exactChunks[t], 0, chunks, t * vocab, vocab);
        }
        assertThat(relativeError(q8Steps, steps, vocab)).isLessThan(0.02).isGreaterThan(0);
        assertThat(relativeError(q8Chunks, chunks, vocab)).isLessThan(0.02).isGreaterThan(0);
    }

    @Test
    void storedWeightsStayMappedAndConvertedOnesLiveOffHeap() throws Exception {
        ModelConfig config = TestCheckpoints.small("tiny");
        TestCheckpoints.write(tmp.resolve("t"), config, 1);
        try (ModelWeights w = CheckpointWeights.load(tmp.resolve("t"), null)) {
            assertThat(w.embedding().data().isMapped()).isTrue();
            assertThat(w.layers().get(0).expertGate().data().isMapped()).isTrue();
        }
        try (ModelWeights w = CheckpointWeights.load(tmp.resolve("t"), GgmlType.F16)) {
            assertThat(w.embedding().type()).isEqualTo(GgmlType.F16);
            assertThat(w.embedding().data().isNative()).isTrue();
            assertThat(w.embedding().data().isMapped()).isFalse();
        }
    }

    @Test
    void anExtraTensorIsNamed() throws Exception {
        ModelConfig config = TestCheckpoints.small("dense");
        Path dir = tmp.resolve("x");
        TestCheckpoints.write(dir, config, 1);
        var tensors = new LinkedHashMap<>(Safetensors.read(dir.resolve("model.safetensors")));
        tensors.put("layers.9.attention.wq.weight", new Safetensors.Tensor(new int[]{2}, new float[2]));
        Safetensors.write(dir.resolve("model.safetensors"), tensors, Map.of());
        assertThatThrownBy(() -> CheckpointWeights.load(dir, null))
                .isInstanceOf(IOException.class).hasMessageContaining("unexpected tensor layers.9.attention.wq.weight");
    }

    @Test
    void sequencesBatchedTogetherGetTheirOwnLogits() throws Exception {
        ModelConfig config = TestCheckpoints.small("llama4");
        TestCheckpoints.write(tmp.resolve("b"), config, 5);
        int[] a = ids(1, 9), b = ids(2, 6);
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(tmp.resolve("b"), null), 16)) {
            float[][] aAlone = allLogits(model, a, 16), bAlone = allLogits(model, b, 16);
            // Prompt a's first 5 tokens and all of b in one batch, then a's rest together with b's decode steps.
            Sequence sa = model.newSequence(), sb = model.newSequence();
            Batch batch = model.newBatch();
            for (int i = 0; i < 5; i++) batch.add(sa, a[i], i == 4);
            for (int i = 0; i < b.length; i++) batch.add(sb, b[i], i == b.length - 1);
            model.forward(batch);
            assertClose(batch.logits(4), aAlone[4]);
            assertClose(batch.logits(4 + b.length), bAlone[b.length - 1]);
            batch.clear();
            for (int i = 5; i < a.length; i++) batch.add(sa, a[i], true);
            batch.add(sb, 7, true);
            model.forward(batch);
            for (int i = 5; i < a.length; i++) assertClose(batch.logits(i - 5), aAlone[i]);
            assertThat(sa.length()).isEqualTo(a.length);
            assertThat(sb.length()).isEqualTo(b.length + 1);
            int[] bNext = Arrays.copyOf(b, b.length + 1);
            bNext[b.length] = 7;
            assertClose(batch.logits(a.length - 5), allLogits(model, bNext, 16)[b.length]);
        }
    }

    @Test
    void rowsThatAQuantTypeCannotHoldAreNamed() throws Exception {
        ModelConfig.Builder b = TestCheckpoints.small("dense").toBuilder();
        b.ffnHidden = 48; // w2 rows hold 48 values: not a multiple of Q8_0's block of 32
        Path dir = tmp.resolve("q");
        TestCheckpoints.write(dir, b.build(), 1);
        assertThatThrownBy(() -> CheckpointWeights.load(dir, GgmlType.Q8_0))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("tensor layers.0.feed_forward.w2.weight rows hold 48 values");
    }

    @Test
    void routerSelectionBiasFromTrainerJsonRoutesAsInTraining() throws Exception {
        ModelConfig config = TestCheckpoints.small("mixtral");
        Path dir = tmp.resolve("bias");
        TestCheckpoints.write(dir, config, 12);
        Transformer training = new Transformer(config, new Balance(Balance.Mode.AUX_FREE, 0, 0, 1e-3),
                1, TOKENS);
        for (var e : Safetensors.read(dir.resolve("model.safetensors")).entrySet())
            System.arraycopy(e.getValue().data(), 0, training.params(), training.layout().get(e.getKey()).offset(), e.getValue().data().length);
        SplittableRandom random = new SplittableRandom(8);
        StringBuilder json = new StringBuilder("{\"router_bias\": [");
        float[][] bias = training.routerBias();
        for (int l = 0; l < bias.length; l++) {
            json.append(l == 0 ? "[" : ", [");
            for (int e = 0; e < bias[l].length; e++) {
                bias[l][e] = (float) (random.nextGaussian() * 0.1);
                json.append(e == 0 ? "" : ", ").append(bias[l][e]);
            }
            json.append("]");
        }
        Files.writeString(dir.resolve("trainer.json"), json.append("]}").toString());
        int[] tokens = ids(4, TOKENS);
        training.forward(tokens, null, 1, TOKENS);
        float[] expected = Arrays.copyOf(training.logits(), TOKENS * config.vocabSize());
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(dir, null), 8)) {
            assertThat(relativeError(allLogits(model, tokens, 8), expected, config.vocabSize())).isLessThan(1e-4);
        }
        Files.delete(dir.resolve("trainer.json"));
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(dir, null), 8)) {
            assertThat(relativeError(allLogits(model, tokens, 8), expected, config.vocabSize())).as("the bias must matter").isGreaterThan(1e-3);
        }
    }

    @Test
    void aLongSequenceGrowsItsCacheAndStillMatchesTraining() throws Exception {
        ModelConfig.Builder b = TestCheckpoints.small("qwen3moe").toBuilder();
        b.context = 300;
        b.layers = 2;
        ModelConfig config = b.build();
        Transformer training = TestCheckpoints.write(tmp.resolve("long"), config, 6);
        int[] tokens = ids(9, 290); // past the cache's first 256 positions
        training.forward(tokens, null, 1, tokens.length);
        float[] expected = Arrays.copyOf(training.logits(), tokens.length * config.vocabSize());
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(tmp.resolve("long"), null), 64)) {
            assertThat(relativeError(allLogits(model, tokens, 64), expected, config.vocabSize())).isLessThan(1e-4);
            assertThatThrownBy(() -> model.newSequence(301)).hasMessageContaining("1 to 300 positions");
            Sequence small = model.newSequence(5);
            assertThatThrownBy(() -> model.prefill(small, ids(1, 6)))
                    .hasMessageContaining("prompt of 6 tokens does not fit the context");
        }
    }

    @Test
    void aCopiedSequenceContinuesLikeTheOriginalAndIndependently() throws Exception {
        ModelConfig config = TestCheckpoints.small("mixtral");
        TestCheckpoints.write(tmp.resolve("copy"), config, 2);
        int[] tokens = ids(3, 10);
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(tmp.resolve("copy"), null), 8)) {
            Sequence original = model.newSequence();
            model.prefill(original, tokens);
            Sequence copy = original.copy();
            assertThat(copy.length()).isEqualTo(10);
            float[] fromCopy = model.decode(copy, 42);
            model.decode(original, 7); // the original moves on elsewhere; the copy's cache must not change
            float[] again = model.decode(original.copy(), 1);
            int[] longer = Arrays.copyOf(tokens, 11);
            longer[10] = 42;
            assertClose(fromCopy, model.prefill(model.newSequence(), longer));
            longer[10] = 7;
            int[] longest = Arrays.copyOf(longer, 12);
            longest[11] = 1;
            assertClose(again, model.prefill(model.newSequence(), longest));
            assertClose(model.decode(copy, 5), allLogits(model, withTail(tokens, 42, 5), 8)[11]);
        }
    }

    @Test
    void decodeRefillsTheArrayItIsGiven() throws Exception {
        ModelConfig config = TestCheckpoints.small("tiny");
        TestCheckpoints.write(tmp.resolve("into"), config, 4);
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(tmp.resolve("into"), null), 8)) {
            Sequence a = model.newSequence(), b = model.newSequence();
            float[] buffer = model.prefill(a, ids(2, 6));
            model.prefill(b, ids(2, 6));
            for (int token : new int[]{9, 4, 17}) {
                float[] fresh = model.decode(b, token);
                float[] refilled = model.decode(a, token, buffer);
                assertThat(refilled).isSameAs(buffer).containsExactly(fresh);
            }
            assertThat(model.decode(a, 3, new float[1])).hasSize(config.vocabSize()); // not V floats: a new array
        }
    }

    private static int[] withTail(int[] tokens, int... tail) {
        int[] out = Arrays.copyOf(tokens, tokens.length + tail.length);
        System.arraycopy(tail, 0, out, tokens.length, tail.length);
        return out;
    }
}
