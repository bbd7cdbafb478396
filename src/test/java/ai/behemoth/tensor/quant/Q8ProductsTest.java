package ai.behemoth.tensor.quant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The 8-bit activation path against its scalar twin (bit for bit), llama.cpp's quantisation rule, and exact float. */
class Q8ProductsTest {
    /**
     * Rows of very different magnitudes: Q4_0 and Q8_0 quantised from Gaussian values, the K types
     * (which Behemoth only reads) random bytes under random half-float d (and dmin).
     */
    private static MemorySegment weights(Arena arena, GgmlType type, int rows, int cols, SplittableRandom random) {
        float[] dense = new float[cols];
        MemorySegment seg = arena.allocate(rows * type.rowBytes(cols), 64);
        if (type.blockSize == 256) {
            for (long i = 0; i < seg.byteSize(); i++) seg.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(256));
            for (long b = 0; b < seg.byteSize() / type.blockBytes; b++) {
                double scale = Math.exp(3 * random.nextGaussian()) / 64;
                long at = (long) type.blockBytes * b;
                if (type == GgmlType.Q6_K) {
                    seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + 208, Float.floatToFloat16((float) scale));
                } else {
                    seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, Float.floatToFloat16((float) scale));
                    seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + 2, Float.floatToFloat16((float) (scale * random.nextDouble())));
                }
            }
            return seg;
        }
        for (int r = 0; r < rows; r++) {
            double scale = Math.exp(3 * random.nextGaussian()); // rows of very different magnitudes
            for (int i = 0; i < cols; i++) dense[i] = (float) (scale * random.nextGaussian());
            Quant.quantize(type, dense, 0, cols, seg, r * type.rowBytes(cols));
        }
        return seg;
    }

    private static float[] input(int n, int cols, SplittableRandom random) {
        float[] x = new float[n * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) (Math.exp(2 * random.nextGaussian()) * random.nextGaussian());
        for (int i = 0; i < 32; i++) x[32 + i] = 0f; // an all-zero block: step 0
        return x;
    }

    /** One input row at a time, and four at a time (Q4_0, Q8_0), against the scalar twin reading the file's layout. */
    @ParameterizedTest
    @ValueSource(strings = {"Q4_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K"})
    void vectorKernelsEqualScalarTwinBitForBit(String typeName) {
        GgmlType type = GgmlType.valueOf(typeName);
        SplittableRandom random = new SplittableRandom(3);
        try (Arena arena = Arena.ofShared()) {
            for (int cols : type.blockSize == 256 ? new int[] {256, 512, 1280} : new int[] {64, 512, 1056}) {
                int rows = 3 * Q8Products.G, n = 5;
                MemorySegment weights = weights(arena, type, rows, cols, random);
                MemorySegment groups = Q8Products.interleave(type, weights, rows, cols, arena);
                Q8Activations a = new Q8Activations();
                float[] x = input(n, cols, random);
                a.quantize(x, 0, n, cols);
                for (int t = 0; t < n; t++) {
                    float[] vector = new float[rows + 1], scalar = new float[rows + 1];
                    Q8Products.multiply(type, groups, 0, rows, cols, a, t, vector, 1);
                    Q8Products.multiplyScalar(type, weights, 0, rows, cols, a, t, scalar, 1);
                    assertThat(vector).as("cols %d, row %d", cols, t).isEqualTo(scalar);
                    float[] tail = new float[Q8Products.G]; // a later group alone, written from its own first row
                    Q8Products.multiply(type, groups, 2 * Q8Products.G, Q8Products.G, cols, a, t, tail, 0);
                    for (int r = 0; r < Q8Products.G; r++) assertThat(tail[r]).isEqualTo(scalar[1 + 2 * Q8Products.G + r]);
                }
                assertThat(Q8Products.multipliesFourRows(type)).isEqualTo(type == GgmlType.Q4_0 || type == GgmlType.Q8_0);
                for (int t = 0; Q8Products.multipliesFourRows(type) && t + 4 <= n; t++) { // four input rows per pass: each row's bits as alone
                    float[] four = new float[2 + 4 * rows];
                    Q8Products.multiply4(type, groups, 0, rows, cols, a, t, four, 2, rows);
                    for (int k = 0; k < 4; k++) {
                        float[] alone = new float[rows];
                        Q8Products.multiplyScalar(type, weights, 0, rows, cols, a, t + k, alone, 0);
                        assertThat(Arrays.copyOfRange(four, 2 + k * rows, 2 + (k + 1) * rows)).as("cols %d, rows %d+%d", cols, t, k).isEqualTo(alone);
                    }
                }
            }
        }
    }

    /**
     * The 16-bit sums at their largest must not wrap. Q4_0: every nibble 15 against activation 127 in
     * block 0, every nibble 0 (value −8) against −127 in block 1 (16·15·127 per sum). Q8_0: every quant
     * −128 (the most a file can hold) against −127: two products' sum, 32,512. Q4_K, Q5_K: every quant
     * 15 or 31, scale and min 63, against 127 (dmin 0). Q6_K: every value −32, every scale −128, against 127.
     * Row 0 against the integers worked out by hand, step 1/127 as a half float.
     */
    @ParameterizedTest
    @ValueSource(strings = {"Q4_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K"})
    void largestSumsDoNotOverflow(String typeName) {
        GgmlType type = GgmlType.valueOf(typeName);
        int rows = Q8Products.G, cols = type.blockSize == 256 ? 256 : 64;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment weights = arena.allocate(rows * type.rowBytes(cols), 64);
            for (long b = 0; b < rows * cols / type.blockSize; b++) {
                long at = (long) type.blockBytes * b;
                if (type == GgmlType.Q6_K) { // ql, qh 0: every value 0 − 32; scales −128
                    for (int j = 192; j < 208; j++) weights.set(ValueLayout.JAVA_BYTE, at + j, (byte) -128);
                    weights.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + 208, Float.floatToFloat16(1f));
                    continue;
                }
                if (type == GgmlType.Q4_K || type == GgmlType.Q5_K) { // every quant at its largest, scales and minimums 63
                    for (int j = 4; j < type.blockBytes; j++) weights.set(ValueLayout.JAVA_BYTE, at + j, (byte) 0xFF);
                    weights.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, Float.floatToFloat16(1f));
                    weights.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + 2, Float.floatToFloat16(0f));
                    continue;
                }
                weights.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, Float.floatToFloat16(1f));
                byte quant = type == GgmlType.Q8_0 ? (byte) -128 : (byte) (b % 2 == 0 ? 0xFF : 0x00);
                for (int j = 0; j < type.blockBytes - 2; j++) weights.set(ValueLayout.JAVA_BYTE, at + 2 + j, quant);
            }
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) x[i] = type == GgmlType.Q8_0 || (type == GgmlType.Q4_0 && i >= 32) ? -1f : 1f;
            Q8Activations a = new Q8Activations();
            a.quantize(x, 0, 1, cols);
            float[] vector = new float[rows], scalar = new float[rows];
            Q8Products.multiply(type, Q8Products.interleave(type, weights, rows, cols, arena), 0, rows, cols, a, 0, vector, 0);
            Q8Products.multiplyScalar(type, weights, 0, rows, cols, a, 0, scalar, 0);
            assertThat(vector).isEqualTo(scalar);
            long integer = switch (type) {
                case Q8_0 -> 64 * 128 * 127;
                case Q4_0 -> 32 * 7 * 127 + 32 * 8 * 127;
                case Q4_K -> 8L * 32 * 15 * 127 * 63;
                case Q5_K -> 8L * 32 * 31 * 127 * 63;
                default -> 8L * 2 * 16 * 32 * 127 * 128;
            };
            float step = Float.float16ToFloat(Float.floatToFloat16(1f / 127f));
            assertThat((double) scalar[0]).isCloseTo(integer * step, within(1e-6 * integer * step));
        }
    }

    /** ggml's x86 rule: d = amax/127 kept as a half float, q = x·127/amax rounded half to even. */
    @Test
    void activationsAreQuantisedAsLlamaCppDoes() {
        float[] x = new float[64];
        x[0] = 127f; x[1] = 2.5f; x[2] = 3.5f; x[3] = -2.5f; x[4] = -127f; x[5] = 0.49f;
        x[32] = 0.3f; x[33] = -0.1f; // block 1: amax 0.3, d = 0.3/127 as a half float
        Q8Activations a = new Q8Activations();
        a.quantize(x, 0, 1, 64);
        assertThat(new int[] {a.value(0, 0), a.value(0, 1), a.value(0, 2), a.value(0, 3), a.value(0, 4), a.value(0, 5), a.value(0, 6)})
                .containsExactly(127, 2, 4, -2, -127, 0, 0);
        assertThat(a.step(0, 0)).isEqualTo(1f);
        assertThat(a.step(0, 1)).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(0.3f / 127f)));
        assertThat(a.value(0, 32)).isEqualTo(127);
        assertThat(a.value(0, 33)).isEqualTo((int) Math.rint(-0.1f * (127f / 0.3f)));
        assertThatThrownBy(() -> a.quantize(x, 0, 1, 48)).hasMessageContaining("multiple of 32");
    }

    /**
     * Against the exact product of the same weights in double: each activation is off by at most
     * half its block's step (plus the half float's rounding of the step), so the error is bounded by
     * Σ_b |d_w|·Σ|q − 8|·(step/2 + |x|·2^−11).
     */
    @ParameterizedTest
    @ValueSource(strings = {"Q4_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K"})
    void resultsStayWithinTheActivationRounding(String typeName) {
        GgmlType type = GgmlType.valueOf(typeName);
        SplittableRandom random = new SplittableRandom(5);
        int rows = 2 * Q8Products.G, cols = 256;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment weights = weights(arena, type, rows, cols, random);
            float[] x = input(1, cols, random);
            Q8Activations a = new Q8Activations();
            a.quantize(x, 0, 1, cols);
            float[] got = new float[rows];
            Q8Products.multiply(type, Q8Products.interleave(type, weights, rows, cols, arena), 0, rows, cols, a, 0, got, 0);
            float[] w = new float[cols];
            double worst = 0;
            for (int r = 0; r < rows; r++) {
                Quant.dequantize(type, weights, r * type.rowBytes(cols), w, 0, cols);
                double exact = 0, bound = 0;
                for (int i = 0; i < cols; i++) {
                    exact += (double) w[i] * x[i];
                    bound += Math.abs(w[i]) * (a.step(0, i / 32) / 2 + Math.abs(x[i]) * 0x1p-11) + Math.abs(w[i] * x[i]) * 1e-6;
                }
                assertThat(Math.abs(got[r] - exact)).as("row %d", r).isLessThanOrEqualTo(bound);
                worst = Math.max(worst, Math.abs(got[r] - exact) / bound);
            }
            assertThat(worst).isGreaterThan(0); // the activations were rounded: not the exact float path
        }
    }

    @Test
    void rowsThatMakeNoWholeGroupAndOtherTypesAreRefused() {
        try (Arena arena = Arena.ofShared()) {
            int rows = Q8Products.G + 1;
            MemorySegment weights = arena.allocate(rows * GgmlType.Q4_0.rowBytes(32), 64);
            assertThatThrownBy(() -> Q8Products.interleave(GgmlType.Q4_0, weights, rows, 32, arena)).hasMessageContaining("groups of " + Q8Products.G);
            assertThatThrownBy(() -> Q8Products.interleave(GgmlType.F16, weights, rows, 32, arena)).hasMessageContaining("no 8-bit activation kernel for F16");
        }
    }
}
