package ai.behemoth.tensor.quant;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Input rows quantised to 8 bits the way llama.cpp quantises a matrix-vector product's activations
 * for its Q4_0 and Q8_0 kernels (ggml's {@code quantize_row_q8_0}, x86 path): per block of 32
 * values, {@code d = amax/127} stored as a half float, and {@code q = round(x·127/amax)}, rounding
 * half to even. With {@link Q8Products} this gives llama.cpp's arithmetic rather than float32's:
 * each activation is off by up to half a step, {@code d/2}.
 *
 * <p>Buffers grow on demand and are reused: quantising allocates nothing once they have grown.
 */
public final class Q8Activations {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.length() > 16 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(16 * L));
    private static final float ROUND = 12582912f; // 1.5·2^23
    /** Quantised values, row after row ({@code rows × cols}); each in [-127, 127]. */
    short[] q = new short[0];
    /** Per block of 32: the step d as a float (a half float's value), and Σ q. */
    float[] d = new float[0];
    int[] sum = new int[0];
    int cols;

    /** Quantises the {@code n} rows of {@code cols} values at {@code x[xOff..]} (cols a multiple of 32). */
    public void quantize(float[] x, int xOff, int n, int cols) {
        prepare(n, cols);
        for (int t = 0; t < n; t++) quantizeRow(x, xOff, t);
    }

    /** Makes room for {@code n} rows of {@code cols} values; {@link #quantizeRow} then fills them, in any order, from any thread. */
    public void prepare(int n, int cols) {
        if (cols % 32 != 0) throw new IllegalArgumentException("8-bit activations need rows of a multiple of 32 values, not " + cols);
        this.cols = cols;
        if (q.length < n * cols) {
            q = new short[n * cols];
            d = new float[n * cols / 32];
            sum = new int[n * cols / 32];
        }
    }

    /** Quantises row {@code t}, the {@code cols} values at {@code x[xOff + t·cols..]}. */
    public void quantizeRow(float[] x, int xOff, int t) {
        for (int b = t * cols / 32; b < (t + 1) * cols / 32; b++) {
            int at = 32 * b;
            FloatVector max = FloatVector.zero(F);
            for (int i = 0; i < 32; i += L) max = max.lanewise(VectorOperators.MAX, FloatVector.fromArray(F, x, xOff + at + i).abs());
            float amax = max.reduceLanes(VectorOperators.MAX);
            d[b] = Float.float16ToFloat(Float.floatToFloat16(amax / 127f));
            float scale = amax != 0 ? 127f / amax : 0f;
            int total = 0;
            for (int i = 0; i < 32; i += L) {
                // x·scale rounded half to even: adding 1.5·2^23 leaves no fraction bits (|x·scale| ≤ 127)
                IntVector v = (IntVector) FloatVector.fromArray(F, x, xOff + at + i).mul(scale).add(ROUND).sub(ROUND)
                        .convert(VectorOperators.F2I, 0);
                ((ShortVector) v.convertShape(VectorOperators.I2S, S, 0)).intoArray(q, at + i);
                total += v.reduceLanes(VectorOperators.ADD);
            }
            sum[b] = total;
        }
    }

    /** The quantised value {@code i} of row {@code t}. */
    public int value(int t, int i) {
        return q[t * cols + i];
    }

    /** The step of block {@code b} (values {@code 32b..32b+31}) of row {@code t}. */
    public float step(int t, int b) {
        return d[t * (cols / 32) + b];
    }
}
