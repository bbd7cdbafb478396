package ai.behemoth.tensor.quant;

/**
 * Input rows quantised to 8 bits the way llama.cpp quantises a matrix-vector product's activations
 * for its Q4_0 and Q8_0 kernels (ggml's {@code quantize_row_q8_0}, x86 path): per block of 32
 * values, {@code d = amax/127} stored as a half float, and {@code q = round(x·127/amax)}, rounding
 * half to even. With {@link Q8Decode} this gives llama.cpp's arithmetic rather than float32's:
 * each activation is off by up to half a step, {@code d/2}.
 *
 * <p>Buffers grow on demand and are reused: quantising allocates nothing once they have grown.
 */
public final class Q8Activations {
    /** Quantised values, row after row ({@code rows × cols}); each in [-127, 127]. */
    short[] q = new short[0];
    /** Per block of 32: the step d as a float (a half float's value), and Σ q. */
    float[] d = new float[0];
    int[] sum = new int[0];
    int cols, rows;

    /** Quantises the {@code n} rows of {@code cols} values at {@code x[xOff..]} (cols a multiple of 32). */
    public void quantize(float[] x, int xOff, int n, int cols) {
        if (cols % 32 != 0) throw new IllegalArgumentException("8-bit activations need rows of a multiple of 32 values, not " + cols);
        this.cols = cols;
        this.rows = n;
        if (q.length < n * cols) {
            q = new short[n * cols];
            d = new float[n * cols / 32];
            sum = new int[n * cols / 32];
        }
        for (int b = 0; b < n * cols / 32; b++) {
            int at = (b / (cols / 32)) * cols + (b % (cols / 32)) * 32;
            float amax = 0;
            for (int i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[xOff + at + i]));
            d[b] = Float.float16ToFloat(Float.floatToFloat16(amax / 127f));
            float scale = amax != 0 ? 127f / amax : 0f;
            int s = 0;
            for (int i = 0; i < 32; i++) {
                short v = (short) Math.rint(x[xOff + at + i] * scale);
                q[at + i] = v;
                s += v;
            }
            sum[b] = s;
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
