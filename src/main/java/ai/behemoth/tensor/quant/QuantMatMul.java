package ai.behemoth.tensor.quant;

import ai.behemoth.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * A linear layer over many input rows, {@code out[t, r] = Σ_p W[r, p]·x[t, p]}, with W stored as
 * rows of any {@link GgmlType} in a memory segment: the prefill product of inference.
 *
 * <p>How: the input rows are packed once per call, transposed into panels {@link #NT} rows wide
 * (depth-major inside a panel, zero beyond the last row; a last panel of at most NT/2 rows is packed
 * half as wide). Weight rows are taken {@link #MR} at a time, one parallel task each: dequantised
 * into floats, once, then multiplied with every panel by a register-tiled kernel, MR weight rows by
 * NT input rows in sixteen vector accumulators, each step broadcasting one weight and loading two
 * input vectors. The input rows lie in the vector lanes, so no output needs a horizontal sum, and
 * the weights are read in the layout they are stored in: a few input rows (a mixture-of-experts
 * expert sees about a dozen per prompt chunk) still fill the vector units, and no weight is
 * transposed. {@code tensor.MatMul} is the other way round (its four-row tile broadcasts the input
 * and packs the weights sixty-four rows wide), which suits training's long batches.
 *
 * <p>Each output is one chain of fused multiply-adds over p = 0, 1, ..., cols-1 from zero, so its
 * bits are those of the plain loop {@code s = fma(W[r, p], x[t, p], s)} whatever the thread count,
 * vector width or JIT state. The segment must be readable from the pool's threads (a shared or
 * global arena).
 */
public final class QuantMatMul {
    private QuantMatMul() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    /** Weight rows of a register tile, and of a task. */
    static final int MR = 8;
    /** Input rows of a full panel: two vectors. */
    static final int NT = 2 * VL;

    /** Per-thread buffers, grown on demand and reused: the packed input (caller only), a tile's dequantised weights, its results. */
    private static final class Scratch {
        float[] packedX = new float[0];
        float[] weights = new float[0];
        final float[] tile = new float[MR * NT];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * {@code out[outOff + t·rows + r] = Σ_i W[r, i]·x[xOff + t·cols + i]} for {@code t < n}, {@code r < rows},
     * W being {@code rows} rows of {@code cols} values of {@code type} from byte 0 of {@code data}.
     */
    public static void multiply(GgmlType type, MemorySegment data, int rows, int cols,
                                float[] x, int xOff, int n, float[] out, int outOff) {
        if (rows <= 0 || n <= 0) return;
        long rowBytes = type.rowBytes(cols);
        int panels = (n + NT - 1) / NT;
        Scratch caller = SCRATCH.get();
        if (caller.packedX.length < panels * NT * cols) caller.packedX = new float[panels * NT * cols];
        float[] packedX = caller.packedX;
        for (int jp = 0; jp < panels; jp++) packPanel(x, xOff, n, cols, jp, packedX);
        Parallel.forRange((rows + MR - 1) / MR, g -> {
            Scratch scratch = SCRATCH.get();
            if (scratch.weights.length < MR * cols) scratch.weights = new float[MR * cols];
            float[] w = scratch.weights;
            int r0 = g * MR, valid = Math.min(MR, rows - r0);
            for (int r = 0; r < valid; r++) Quant.dequantize(type, data, (r0 + r) * rowBytes, w, r * cols, cols);
            if (valid < MR) java.util.Arrays.fill(w, valid * cols, MR * cols, 0f);
            for (int jp = 0; jp < panels; jp++) {
                int t0 = jp * NT, width = panelWidth(n, t0), base = jp * NT * cols;
                if (width == NT) kernel(w, cols, packedX, base, scratch.tile);
                else halfKernel(w, cols, packedX, base, scratch.tile);
                flush(scratch.tile, out, outOff + t0 * rows + r0, rows, valid, Math.min(width, n - t0));
            }
        });
    }

    /** The width of the panel starting at input row t0: NT, or NT/2 for a last panel that narrow. */
    private static int panelWidth(int n, int t0) {
        return n - t0 <= NT / 2 ? NT / 2 : NT;
    }

    /**
     * Packs input rows [jp·NT, jp·NT + w) into packedX[jp·NT·cols + p·w + j] (w the panel width),
     * zero beyond row n: a transpose, four rows at a time.
     */
    private static void packPanel(float[] x, int xOff, int n, int cols, int jp, float[] packedX) {
        int t0 = jp * NT, w = panelWidth(n, t0), count = Math.min(w, n - t0), base = jp * NT * cols;
        int j = 0;
        for (; j + 4 <= count; j += 4) {
            int s0 = xOff + (t0 + j) * cols, s1 = s0 + cols, s2 = s1 + cols, s3 = s2 + cols;
            for (int p = 0, d = base + j; p < cols; p++, d += w) {
                packedX[d] = x[s0 + p];
                packedX[d + 1] = x[s1 + p];
                packedX[d + 2] = x[s2 + p];
                packedX[d + 3] = x[s3 + p];
            }
        }
        for (; j < count; j++) {
            int src = xOff + (t0 + j) * cols;
            for (int p = 0; p < cols; p++) packedX[base + p * w + j] = x[src + p];
        }
        if (count < w) {
            for (int p = 0; p < cols; p++) java.util.Arrays.fill(packedX, base + p * w + count, base + (p + 1) * w, 0f);
        }
    }

    /**
     * The register tile: tile[r·NT + j] = Σ_p w[r·cols + p]·packedX[base + p·NT + j] for r < MR, j < NT,
     * sixteen accumulators. Writing the tile out is left to {@link #flush}, which keeps this method
     * small enough for the JIT to hold every vector in a register.
     */
    private static void kernel(float[] w, int cols, float[] px, int base, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        for (int p = 0; p < cols; p++) {
            int bo = base + p * NT;
            FloatVector b0 = FloatVector.fromArray(S, px, bo), b1 = FloatVector.fromArray(S, px, bo + VL);
            FloatVector a = FloatVector.broadcast(S, w[p]);
            c00 = a.fma(b0, c00); c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, w[cols + p]);
            c10 = a.fma(b0, c10); c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, w[2 * cols + p]);
            c20 = a.fma(b0, c20); c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, w[3 * cols + p]);
            c30 = a.fma(b0, c30); c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, w[4 * cols + p]);
            c40 = a.fma(b0, c40); c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, w[5 * cols + p]);
            c50 = a.fma(b0, c50); c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(S, w[6 * cols + p]);
            c60 = a.fma(b0, c60); c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(S, w[7 * cols + p]);
            c70 = a.fma(b0, c70); c71 = a.fma(b1, c71);
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, VL);
        c10.intoArray(tile, NT); c11.intoArray(tile, NT + VL);
        c20.intoArray(tile, 2 * NT); c21.intoArray(tile, 2 * NT + VL);
        c30.intoArray(tile, 3 * NT); c31.intoArray(tile, 3 * NT + VL);
        c40.intoArray(tile, 4 * NT); c41.intoArray(tile, 4 * NT + VL);
        c50.intoArray(tile, 5 * NT); c51.intoArray(tile, 5 * NT + VL);
        c60.intoArray(tile, 6 * NT); c61.intoArray(tile, 6 * NT + VL);
        c70.intoArray(tile, 7 * NT); c71.intoArray(tile, 7 * NT + VL);
    }

    /** The register tile for a half-width panel: tile[r·NT + j] for j < NT/2, eight accumulators. */
    private static void halfKernel(float[] w, int cols, float[] px, int base, float[] tile) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (int p = 0; p < cols; p++) {
            FloatVector b = FloatVector.fromArray(S, px, base + p * VL);
            c0 = FloatVector.broadcast(S, w[p]).fma(b, c0);
            c1 = FloatVector.broadcast(S, w[cols + p]).fma(b, c1);
            c2 = FloatVector.broadcast(S, w[2 * cols + p]).fma(b, c2);
            c3 = FloatVector.broadcast(S, w[3 * cols + p]).fma(b, c3);
            c4 = FloatVector.broadcast(S, w[4 * cols + p]).fma(b, c4);
            c5 = FloatVector.broadcast(S, w[5 * cols + p]).fma(b, c5);
            c6 = FloatVector.broadcast(S, w[6 * cols + p]).fma(b, c6);
            c7 = FloatVector.broadcast(S, w[7 * cols + p]).fma(b, c7);
        }
        c0.intoArray(tile, 0); c1.intoArray(tile, NT); c2.intoArray(tile, 2 * NT); c3.intoArray(tile, 3 * NT);
        c4.intoArray(tile, 4 * NT); c5.intoArray(tile, 5 * NT); c6.intoArray(tile, 6 * NT); c7.intoArray(tile, 7 * NT);
    }

    /** Writes the valid weight rows × input rows of a tile to the output, transposed: out[o + j·ldOut + r] = tile[r·NT + j]. */
    private static void flush(float[] tile, float[] out, int o, int ldOut, int validRows, int inputs) {
        for (int j = 0; j < inputs; j++) {
            int dst = o + j * ldOut;
            for (int r = 0; r < validRows; r++) out[dst + r] = tile[r * NT + j];
        }
    }
}
