package ai.behemoth.tensor.quant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class QuantTest {

    // ---- golden rows from llama.cpp's gguf-py (tools/quant_golden.py)

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = QuantTest.class.getResourceAsStream("/quant/" + name)) {
            assertThat(in).as("test resource quant/" + name).isNotNull();
            return in.readAllBytes();
        }
    }

    private static float[] floats(byte[] bytes) {
        float[] out = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void dequantizesGoldenRowsExactly(GgmlType type) throws IOException {
        MemorySegment row = MemorySegment.ofArray(resource(type + ".bin"));
        float[] expected = floats(resource(type + ".f32"));
        int n = expected.length;
        assertThat(type.rowBytes(n)).isEqualTo(row.byteSize());

        float[] fast = new float[n + 3], scalar = new float[n + 3];
        Quant.dequantize(type, row, 0, fast, 3, n);
        QuantScalar.dequantize(type, row, 0, scalar, 3, n);
        for (int i = 0; i < n; i++) {
            assertThat(fast[3 + i]).as("%s value %d (Vector API)", type, i).isEqualTo(expected[i]);
            assertThat(scalar[3 + i]).as("%s value %d (scalar)", type, i).isEqualTo(expected[i]);
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0"})
    void quantizesLikeGgmlReference(GgmlType type) throws IOException {
        float[] src = floats(resource(type + ".src.f32"));
        byte[] expected = resource(type + ".bin");
        byte[] got = new byte[expected.length + 5];
        Quant.quantize(type, src, 0, src.length, MemorySegment.ofArray(got), 5);
        for (int i = 0; i < expected.length; i++)
            assertThat(got[5 + i]).as("%s byte %d (block %d)", type, i, i / type.blockBytes).isEqualTo(expected[i]);
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void dotMatchesGoldenRow(GgmlType type) throws IOException {
        MemorySegment row = MemorySegment.ofArray(resource(type + ".bin"));
        float[] w = floats(resource(type + ".f32"));
        Random rng = new Random(7);
        float[] x = new float[w.length + 1];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
        double exact = 0, magnitude = 0;
        for (int i = 0; i < w.length; i++) {
            exact += (double) w[i] * x[1 + i];
            magnitude += Math.abs((double) w[i] * x[1 + i]);
        }
        double tolerance = 1e-6 * magnitude + 1e-30;
        assertThat((double) Quant.dot(type, row, 0, x, 1, w.length)).isCloseTo(exact, within(tolerance));
        assertThat((double) QuantScalar.dot(type, row, 0, x, 1, w.length)).isCloseTo(exact, within(tolerance));
    }

    // ---- Vector API against the scalar twin on random rows

    /** A random encoded row of {@code blocks} blocks whose half-float scales are finite and modest. */
    static byte[] randomRow(GgmlType type, int values, Random rng) {
        byte[] row = new byte[(int) type.rowBytes(values)];
        rng.nextBytes(row);
        ByteBuffer buf = ByteBuffer.wrap(row).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < values / type.blockSize; b++) {
            int at = b * type.blockBytes;
            switch (type) {
                case F32 -> buf.putFloat(at, (float) rng.nextGaussian());
                case F16 -> buf.putShort(at, Float.floatToFloat16((float) rng.nextGaussian()));
                case BF16 -> buf.putShort(at, QuantScalar.floatToBf16((float) rng.nextGaussian()));
                case Q8_0, Q4_0 -> buf.putShort(at, Float.floatToFloat16((float) rng.nextGaussian() * 0.05f));
                case Q4_K, Q5_K -> {
                    buf.putShort(at, Float.floatToFloat16((float) rng.nextGaussian() * 0.01f));
                    buf.putShort(at + 2, Float.floatToFloat16((float) rng.nextGaussian() * 0.01f));
                }
                case Q6_K -> buf.putShort(at + 208, Float.floatToFloat16((float) rng.nextGaussian() * 0.01f));
            }
        }
        return row;
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void vectorKernelsMatchScalarTwinOnRandomRows(GgmlType type) {
        Random rng = new Random(11 + type.ordinal());
        for (int blocks : new int[]{1, 2, 3, 7, 16}) {
            int n = blocks * type.blockSize + (type.blockSize == 1 ? rng.nextInt(40) : 0); // float rows: ragged tails too
            int off = 1 + rng.nextInt(7);
            byte[] bytes = new byte[off + (int) type.rowBytes(n) + 3];
            System.arraycopy(randomRow(type, n, rng), 0, bytes, off, (int) type.rowBytes(n));
            MemorySegment row = MemorySegment.ofArray(bytes);

            float[] fast = new float[n], scalar = new float[n];
            Quant.dequantize(type, row, off, fast, 0, n);
            QuantScalar.dequantize(type, row, off, scalar, 0, n);
            assertThat(fast).as("%s dequantize, %d values", type, n).isEqualTo(scalar);

            float[] x = new float[n + 2];
            for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
            double magnitude = 0;
            for (int i = 0; i < n; i++) magnitude += Math.abs((double) scalar[i] * x[2 + i]);
            float f = Quant.dot(type, row, off, x, 2, n), s = QuantScalar.dot(type, row, off, x, 2, n);
            assertThat((double) f).as("%s dot, %d values", type, n)
                    .isCloseTo(s, within(2e-6 * magnitude + 1e-30));
        }
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void dotRowsMatchesTheScalarTwinAndGivesEachRowTheSameBitsInAnyGroup(GgmlType type) {
        Random rng = new Random(23 + type.ordinal());
        int n = 2 * (type.blockSize == 1 ? 256 : type.blockSize) + (type.blockSize == 1 ? 21 : 0); // float rows: a ragged tail
        int stride = (int) type.rowBytes(n) + 5, rows = 9, off = 3;
        byte[] bytes = new byte[off + rows * stride];
        for (int r = 0; r < rows; r++) System.arraycopy(randomRow(type, n, rng), 0, bytes, off + r * stride, (int) type.rowBytes(n));
        MemorySegment seg = MemorySegment.ofArray(bytes);
        float[] x = new float[n + 1];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();

        float[] all = new float[rows + 2];
        Quant.dotRows(type, seg, off, stride, rows, x, 1, n, all, 2);
        float[] w = new float[n];
        for (int r = 0; r < rows; r++) {
            QuantScalar.dequantize(type, seg, off + (long) r * stride, w, 0, n);
            double magnitude = 0;
            for (int i = 0; i < n; i++) magnitude += Math.abs((double) w[i] * x[1 + i]);
            float scalar = QuantScalar.dot(type, seg, off + (long) r * stride, x, 1, n);
            assertThat((double) all[2 + r]).as("%s row %d of %d", type, r, rows).isCloseTo(scalar, within(2e-6 * magnitude + 1e-30));
        }
        // Every split of the rows into calls (groups of 1 to 3 run the kernel with a row repeated) gives the same bits.
        for (int first = 0; first < rows; first++) {
            for (int count = 1; first + count <= rows; count++) {
                float[] part = new float[count];
                Quant.dotRows(type, seg, off + (long) first * stride, stride, count, x, 1, n, part, 0);
                for (int r = 0; r < count; r++)
                    assertThat(Float.floatToRawIntBits(part[r])).as("%s row %d in a call of %d rows from %d", type, first + r, count, first)
                            .isEqualTo(Float.floatToRawIntBits(all[2 + first + r]));
            }
        }
        assertThat(Quant.dot(type, seg, off + 4L * stride, x, 1, n)).isEqualTo(all[2 + 4]);
    }

    @Test
    void everyHalfFloatConvertsLikeFloat16ToFloat() {
        byte[] all = new byte[2 * 65536];
        ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        for (int h = 0; h < 65536; h++) buf.putShort(2 * h, (short) h);
        float[] fast = new float[65536];
        Quant.dequantize(GgmlType.F16, MemorySegment.ofArray(all), 0, fast, 0, 65536);
        for (int h = 0; h < 65536; h++)
            assertThat(Float.floatToRawIntBits(fast[h])).as("half 0x%04x", h)
                    .isEqualTo(Float.floatToRawIntBits(Float.float16ToFloat((short) h)));
    }

    // ---- quantisation error bounds

    @Test
    void quantizeDequantizeStaysWithinEachTypesStep() {
        Random rng = new Random(5);
        int n = 32 * 64;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rng.nextGaussian() * Math.exp(rng.nextGaussian())); // scales vary by block
        for (GgmlType type : new GgmlType[]{GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0}) {
            byte[] bytes = new byte[(int) type.rowBytes(n)];
            Quant.quantize(type, x, 0, n, MemorySegment.ofArray(bytes), 0);
            float[] y = new float[n];
            Quant.dequantize(type, MemorySegment.ofArray(bytes), 0, y, 0, n);
            for (int b = 0; b < n / 32; b++) {
                float amax = 0;
                for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[32 * b + j]));
                for (int j = 0; j < 32; j++) {
                    int i = 32 * b + j;
                    // Q8_0: half a step of amax/127, plus the half-float rounding of the scale (2^-11 relative) times |q| ≤ 127.
                    // Q4_0: a step of amax/8 (the value opposite the extreme clips from 16 to 15), plus the scale's rounding times 8.
                    double bound = switch (type) {
                        case F32 -> 0;
                        case F16 -> Math.abs(x[i]) * 0x1p-11 + 0x1p-25;
                        case BF16 -> Math.abs(x[i]) * 0x1p-8;
                        case Q8_0 -> amax / 127 * 0.5 + amax * 0x1p-11 * 1.01;
                        case Q4_0 -> amax / 8 + amax * 0x1p-11 * 1.01;
                        default -> throw new AssertionError();
                    };
                    assertThat((double) Math.abs(y[i] - x[i])).as("%s value %d = %s, block amax %s", type, i, x[i], amax)
                            .isLessThanOrEqualTo(bound);
                }
            }
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        float one = 1.0f, ulp = 0x1p-7f;   // bf16 has 7 mantissa bits
        assertThat(roundTripBf16(one + ulp / 2)).isEqualTo(one);                 // tie: down to even
        assertThat(roundTripBf16(one + 3 * ulp / 2)).isEqualTo(one + 2 * ulp);   // tie: up to even
        assertThat(roundTripBf16(one + ulp / 2 + 0x1p-20f)).isEqualTo(one + ulp); // above the tie
        assertThat(roundTripBf16(Float.NaN)).isNaN();
    }

    private static float roundTripBf16(float v) {
        byte[] b = new byte[2];
        Quant.quantize(GgmlType.BF16, new float[]{v}, 0, 1, MemorySegment.ofArray(b), 0);
        float[] out = new float[1];
        Quant.dequantize(GgmlType.BF16, MemorySegment.ofArray(b), 0, out, 0, 1);
        return out[0];
    }

    @Test
    void rejectsPartialBlocksAndUnsupportedQuantisers() {
        MemorySegment seg = MemorySegment.ofArray(new byte[1024]);
        assertThatThrownBy(() -> Quant.dot(GgmlType.Q8_0, seg, 0, new float[64], 0, 40))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of 32");
        assertThatThrownBy(() -> Quant.quantize(GgmlType.Q4_K, new float[256], 0, 256, seg, 0))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("Q4_K");
        assertThatThrownBy(() -> GgmlType.ofId(3)).hasMessageContaining("3");
    }
}
