package ai.behemoth.model;

import ai.behemoth.format.GgufFile;
import ai.behemoth.format.GgufTensorInfo;
import ai.behemoth.format.GgufWriter;
import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tensor.quant.Quant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Mixtral GGUFs made before llama.cpp stacked the experts (2024) hold {@code blk.N.ffn_gate.E.weight},
 * {@code ffn_down.E}, {@code ffn_up.E} instead of {@code ffn_gate_exps} etc. The tests rewrite a
 * Behemoth-exported (stacked) Mixtral-style file into that layout, both as the old converter ordered
 * it (gate, down, up of each expert in turn: copied on load) and with each kind's experts back to
 * back (used in place), and compare logits with the stacked file, bit for bit; and a file typed as
 * llama.cpp's Q4_K_M types Mixtral, in that layout, runs.
 */
class PerExpertGgufTest {
    private static final Pattern STACKED = Pattern.compile("(blk\\.\\d+\\.)(ffn_gate|ffn_up|ffn_down)_exps\\.weight");

    @TempDir
    Path tmp;

    /** A small Mixtral-style checkpoint exported as a stacked GGUF of {@code type}. */
    private Path stacked(GgmlType type) throws IOException {
        return stacked(TestCheckpoints.small("mixtral"), type);
    }

    private Path stacked(ModelConfig c, GgmlType type) throws IOException {
        Path dir = tmp.resolve("mixtral-" + c.dim());
        if (!Files.exists(dir)) TestCheckpoints.write(dir, c, 17);
        Path out = tmp.resolve("stacked-" + c.dim() + "-" + type + ".gguf");
        GgufExport.export(dir, type, out);
        return out;
    }

    /**
     * The type llama.cpp's Q4_K_M recipe ({@code llama_tensor_get_type}, src/llama-quant.cpp) gives a
     * tensor of an 8-expert llama model, with use_more_bits taken as true for ffn_down; the router
     * (never quantised) in F16 as in TheBloke's Mixtral files.
     */
    private static GgmlType q4kmType(GgufTensorInfo t) {
        String name = t.name();
        if (t.dims().length == 1) return GgmlType.F32;
        if (name.endsWith("ffn_gate_inp.weight")) return GgmlType.F16;
        if (name.endsWith("attn_k.weight") || name.endsWith("attn_v.weight")) return GgmlType.Q8_0;
        if (name.endsWith("attn_output.weight")) return GgmlType.Q5_K;
        if (name.contains("ffn_down") || name.equals("output.weight")) return GgmlType.Q6_K;
        return GgmlType.Q4_K;
    }

    /**
     * {@code src} with each tensor re-typed by {@link #q4kmType}: F16 and Q8_0 quantised from its
     * values, the K types (which Behemoth does not quantise) random blocks with small scales.
     */
    private Path q4km(Path src) throws IOException {
        Path out = tmp.resolve("q4km-stacked.gguf");
        Random rng = new Random(3);
        try (GgufFile f = GgufFile.open(src)) {
            GgufWriter w = new GgufWriter();
            f.metadata().forEach(w::put);
            ValueLayout.OfShort half = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            for (GgufTensorInfo t : f.tensors()) {
                GgmlType type = q4kmType(t);
                int n = (int) t.rowLength();
                MemorySegment bytes = MemorySegment.ofArray(new byte[(int) (t.rows() * type.rowBytes(n))]);
                if (type.blockSize == 256) {
                    byte[] random = new byte[(int) bytes.byteSize()];
                    rng.nextBytes(random);
                    bytes.copyFrom(MemorySegment.ofArray(random));
                    for (long at = 0; at < bytes.byteSize(); at += type.blockBytes) {
                        if (type == GgmlType.Q6_K) {
                            bytes.set(half, at + 208, Float.floatToFloat16(1e-4f * (float) rng.nextGaussian()));
                        } else { // Q4_K, Q5_K: d, dmin
                            bytes.set(half, at, Float.floatToFloat16(2e-5f * (1 + rng.nextFloat())));
                            bytes.set(half, at + 2, Float.floatToFloat16(2e-5f * (1 + rng.nextFloat())));
                        }
                    }
                } else {
                    float[] values = f.readFloats(t);
                    for (long r = 0; r < t.rows(); r++)
                        Quant.quantize(type, values, (int) (r * n), n, bytes, r * type.rowBytes(n));
                }
                w.addTensor(t.name(), type, t.dims(), bytes);
            }
            w.write(out);
        }
        return out;
    }

    /** {@code src} with every tensor as F32 holding its dequantised values. */
    private Path dequantized(Path src) throws IOException {
        Path out = tmp.resolve("dequantized-" + src.getFileName());
        try (GgufFile f = GgufFile.open(src)) {
            GgufWriter w = new GgufWriter();
            f.metadata().forEach(w::put);
            for (GgufTensorInfo t : f.tensors()) w.addTensor(t.name(), GgmlType.F32, t.dims(), f.readFloats(t));
            w.write(out);
        }
        return out;
    }

    /**
     * {@code src} with each stacked expert tensor split into one tensor per expert, those of a layer
     * written either expert by expert (gate.0, down.0, up.0, gate.1, …) or kind by kind (gate.0..E, …);
     * {@code edit} may drop or replace tensors by returning null or another {@link Part}.
     */
    private Path perExpert(Path src, String label, boolean interleaved, UnaryOperator<Part> edit) throws IOException {
        Path out = tmp.resolve(label + ".gguf");
        try (GgufFile f = GgufFile.open(src)) {
            GgufWriter w = new GgufWriter();
            f.metadata().forEach(w::put);
            List<Part> layer = new ArrayList<>();
            String layerPrefix = null;
            for (GgufTensorInfo t : f.tensors()) {
                Matcher m = STACKED.matcher(t.name());
                if (!m.matches()) {
                    w.addTensor(t.name(), t.type(), t.dims(), f.tensorData(t));
                    continue;
                }
                if (layerPrefix != null && !layerPrefix.equals(m.group(1))) flush(w, layer, interleaved, edit);
                layerPrefix = m.group(1);
                int experts = (int) t.dims()[2];
                long bytes = t.byteSize() / experts;
                for (int x = 0; x < experts; x++)
                    layer.add(new Part(m.group(1) + m.group(2) + "." + x + ".weight", m.group(2), x, t.type(),
                            new long[]{t.dims()[0], t.dims()[1]}, f.tensorData(t).asSlice(x * bytes, bytes)));
            }
            flush(w, layer, interleaved, edit);
            w.write(out);
        }
        return out;
    }

    private record Part(String name, String kind, int expert, GgmlType type, long[] dims, MemorySegment data) {}

    private static void flush(GgufWriter w, List<Part> layer, boolean interleaved, UnaryOperator<Part> edit) {
        List<Part> ordered = new ArrayList<>(layer);
        if (interleaved) {
            List<String> kinds = List.of("ffn_gate", "ffn_down", "ffn_up");
            ordered.sort((a, b) -> a.expert != b.expert ? Integer.compare(a.expert, b.expert)
                    : Integer.compare(kinds.indexOf(a.kind), kinds.indexOf(b.kind)));
        }
        for (Part p : ordered) {
            Part q = edit.apply(p);
            if (q != null) w.addTensor(q.name, q.type, q.dims, q.data);
        }
        layer.clear();
    }

    private static float[][] logits(ModelWeights weights, int[] tokens) {
        return InferenceModelTest.allLogits(new InferenceModel(weights, InferenceModel.DEFAULT_CHUNK), tokens, 8);
    }

    @Test
    void perExpertTensorsGiveTheStackedLogitsCopiedOrInPlace() throws Exception {
        for (GgmlType type : new GgmlType[]{GgmlType.F32, GgmlType.Q4_0}) {
            Path stacked = stacked(type);
            Path interleaved = perExpert(stacked, "interleaved-" + type, true, p -> p);
            Path inOrder = perExpert(stacked, "in-order-" + type, false, p -> p);
            int[] tokens = InferenceModelTest.ids(3, 20);
            try (ModelWeights s = GgufWeights.load(stacked, null);
                 ModelWeights a = GgufWeights.load(interleaved, null);
                 ModelWeights b = GgufWeights.load(inOrder, null)) {
                Matrix down = a.layers().get(1).expertDown();
                assertThat(down.name()).isEqualTo("blk.1.ffn_down_exps.weight");
                assertThat(down.type()).isEqualTo(type);
                // copied or in place, the experts are mapped (MappedCopy), like every other weight of the file
                assertThat(down.data().isMapped()).isTrue();
                assertThat(b.layers().get(1).expertDown().data().isMapped()).isTrue();
                float[][] ls = logits(s, tokens), la = logits(a, tokens), lb = logits(b, tokens);
                for (int t = 0; t < tokens.length; t++) {
                    assertThat(la[t]).as("%s interleaved, position %d", type, t).isEqualTo(ls[t]);
                    assertThat(lb[t]).as("%s in order, position %d", type, t).isEqualTo(ls[t]);
                }
            }
        }
    }

    /** Converting on load (--quantize) works on the assembled experts as on stacked ones. */
    @Test
    void perExpertTensorsConvertOnLoadLikeStackedOnes() throws Exception {
        Path stacked = stacked(GgmlType.F32);
        Path interleaved = perExpert(stacked, "interleaved", true, p -> p);
        int[] tokens = InferenceModelTest.ids(4, 12);
        try (ModelWeights s = GgufWeights.load(stacked, GgmlType.Q8_0); ModelWeights a = GgufWeights.load(interleaved, GgmlType.Q8_0)) {
            assertThat(a.layers().get(0).expertGate().type()).isEqualTo(GgmlType.Q8_0);
            float[][] ls = logits(s, tokens), la = logits(a, tokens);
            for (int t = 0; t < tokens.length; t++) assertThat(la[t]).as("position %d", t).isEqualTo(ls[t]);
        }
    }

    /**
     * A file typed like TheBloke's Mixtral Q4_K_M (per-expert tensors in the old converter's order;
     * Q4_K, Q5_K attn_output, Q6_K ffn_down and output, Q8_0 attn_k and attn_v, F16 router) gives
     * the logits of the same values stored as F32, one token at a time (dot products) and in chunks
     * (dequantised rows), up to float rounding.
     */
    @Test
    void aMixtralQ4KMStyleFileGivesItsDequantisedLogits() throws Exception {
        ModelConfig.Builder b = TestCheckpoints.small("mixtral").toBuilder();
        b.dim = 256;
        b.headDim = 32;      // 8 heads of 32: attn_output rows of 256, one Q5_K block
        b.expertHidden = 256;
        ModelConfig c = b.build();
        Path typed = q4km(stacked(c, GgmlType.F32));
        Path legacy = perExpert(typed, "q4km-per-expert", true, p -> p);
        Path reference = dequantized(typed);
        int[] tokens = InferenceModelTest.ids(6, 12);
        try (ModelWeights q = GgufWeights.load(legacy, null); ModelWeights f = GgufWeights.load(reference, null)) {
            LayerWeights layer = q.layers().get(0);
            assertThat(List.of(layer.wo().type(), layer.wv().type(), layer.expertDown().type(), layer.expertUp().type(), q.output().type()))
                    .containsExactly(GgmlType.Q5_K, GgmlType.Q8_0, GgmlType.Q6_K, GgmlType.Q4_K, GgmlType.Q6_K);
            float[][] expected = logits(f, tokens);
            for (int chunk : new int[]{1, 8}) {
                float[][] got = InferenceModelTest.allLogits(new InferenceModel(q, InferenceModel.DEFAULT_CHUNK), tokens, chunk);
                double maxDiff = 0, maxRef = 0;
                for (int t = 0; t < tokens.length; t++)
                    for (int v = 0; v < got[t].length; v++) {
                        maxDiff = Math.max(maxDiff, Math.abs(got[t][v] - expected[t][v]));
                        maxRef = Math.max(maxRef, Math.abs(expected[t][v]));
                    }
                assertThat(maxRef).as("logits not all zero").isGreaterThan(1e-3);
                assertThat(maxDiff / maxRef).as("chunks of %d", chunk).isLessThan(1e-4);
            }
        }
    }

    @Test
    void aMissingMisshapenOrMistypedExpertIsNamed() throws Exception {
        Path stacked = stacked(GgmlType.F32);
        Path missing = perExpert(stacked, "missing", true, p -> p.name.equals("blk.1.ffn_up.3.weight") ? null : p);
        assertThatThrownBy(() -> GgufWeights.load(missing, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("missing tensor blk.1.ffn_up.3.weight (expert 3 of 8");
        Path misshapen = perExpert(stacked, "misshapen", true, p -> p.name.equals("blk.0.ffn_down.2.weight")
                ? new Part(p.name, p.kind, p.expert, p.type, new long[]{p.dims[0] / 2, p.dims[1] * 2}, p.data) : p);
        assertThatThrownBy(() -> GgufWeights.load(misshapen, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("tensor blk.0.ffn_down.2.weight has dims [32, 128], the config needs [64, 64]");
        Path mistyped = perExpert(stacked, "mistyped", false, p -> p.name.equals("blk.0.ffn_gate.5.weight")
                ? new Part(p.name, p.kind, p.expert, GgmlType.F16, p.dims, p.data.asSlice(0, p.data.byteSize() / 2)) : p);
        assertThatThrownBy(() -> GgufWeights.load(mistyped, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("tensor blk.0.ffn_gate.5.weight has type F16, expert 0 has F32");
        Path both = perExpert(stacked, "both", false, p -> p);
        try (GgufFile f = GgufFile.open(stacked); GgufFile g = GgufFile.open(both)) {
            GgufWriter w = new GgufWriter();
            g.metadata().forEach(w::put);
            for (GgufTensorInfo t : g.tensors()) w.addTensor(t.name(), t.type(), t.dims(), g.tensorData(t));
            GgufTensorInfo gate = f.tensor("blk.0.ffn_gate_exps.weight");
            w.addTensor(gate.name(), gate.type(), gate.dims(), f.tensorData(gate));
            w.write(tmp.resolve("both.gguf"));
        }
        assertThatThrownBy(() -> GgufWeights.load(tmp.resolve("both.gguf"), null)).isInstanceOf(IOException.class)
                .hasMessageContaining("unexpected tensor blk.0.ffn_gate.0.weight");
    }

    /** Only llama files were ever written one tensor per expert: qwen3moe still needs the stacked tensors. */
    @Test
    void qwen3moeNeedsStackedExperts() throws Exception {
        Path dir = tmp.resolve("qwen3moe");
        TestCheckpoints.write(dir, TestCheckpoints.small("qwen3moe"), 5);
        Path stacked = tmp.resolve("qwen3moe.gguf");
        GgufExport.export(dir, GgmlType.F32, stacked);
        Path split = perExpert(stacked, "qwen3moe-per-expert", true, p -> p);
        assertThatThrownBy(() -> GgufWeights.load(split, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("missing tensor blk.0.ffn_gate_exps.weight");
    }
}
