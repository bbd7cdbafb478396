package ai.behemoth.tensor.quant;

import ai.behemoth.tensor.Parallel;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A linear layer over many input rows, {@code out[t, r] = Σ_p W[r, p]·x[t, p]}, with W stored as
 * rows of any {@link GgmlType} in a memory segment: the prefill product of inference.
 *
 * <p>How: the input rows are packed once per call into panels of {@link #NT} rows (a last panel
 * packed one or two vectors wide when that covers it), and weight rows are taken {@link #MR} at a
 * time, one parallel task each: dequantised into floats once, then multiplied with every panel by
 * register-tiled kernels. {@link #packPanel} and {@link #multiplyRowGroup} are those two kinds of
 * task, public so that a caller can run the tasks of several products as one parallel job each (and
 * pack the input rows once for all the products that read them). The input rows lie in the vector lanes, so no output needs a horizontal
 * sum and no weight is transposed; a few input rows (an expert of a mixture sees about sixteen per
 * 64-token prompt chunk) still fill the vectors. Each kernel step broadcasts one <em>pair</em> of
 * weights, W[r, p] and W[r, p+1], to every other lane, against a panel holding x[t, p] and
 * x[t, p+1] side by side for VL/2 input rows per vector: so one broadcast feeds two or three
 * vector multiply-adds even for 16 to 24 input rows. (Broadcasting single weights against 16-row
 * vectors would leave one multiply-add per broadcast, and on AVX-512 the broadcasts, not the
 * multiply-adds, would then set the pace; {@code tensor.MatMul}'s tile is built the other way
 * round, for training's long batches.) Only the preferred vector shape is used: kernels on
 * half-width vectors, tried for the narrow panels, sometimes compiled (depending on what ran
 * first) into code ten times slower, as the float-vector call sites then see two shapes.
 *
 * <p>The sums: each output is {@code even + odd}, where {@code even} is one chain of fused
 * multiply-adds over p = 0, 2, 4, ... from zero and {@code odd} the same over p = 1, 3, 5, ...
 * (over a zero pair when the depth is odd): whatever the thread count, vector width or JIT state,
 * the bits are those of that plain loop. The segment must be readable from the pool's threads (a
 * shared or global arena).
 */
public final class QuantMatMul {
    private QuantMatMul() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Weight pairs as doubles, so that one broadcast fills every other float lane with each weight of a pair. */
    private static final VectorSpecies<Double> PAIRS = DoubleVector.SPECIES_PREFERRED;
    /** How the kernels read a pair of weights: two floats as one double, at any float boundary. */
    private static final ValueLayout.OfDouble PAIR = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    private static final int VL = S.length();
    /** Weight rows of a register tile, and of a task. */
    public static final int MR = 8;
    /** Input rows per vector: VL/2 rows × a pair of depths. */
    private static final int TV = VL / 2;
    /** Input rows of a full panel: three vectors (a 4 × 3 tile of accumulators, run for each half of the weight rows). */
    static final int NT = 3 * TV;
    /** Floats of a tile per weight row: the lanes of three vectors. */
    private static final int TILE_ROW = 3 * VL;

    /** Per-thread buffers, grown on demand and reused: the packed input of {@link #multiply} (caller only), a tile's dequantised weights (also as a segment), its results. */
    private static final class Scratch {
        float[] packedX = new float[0];
        float[] weights = new float[0];
        MemorySegment weightView = MemorySegment.ofArray(weights);
        final float[] tile = new float[MR * TILE_ROW];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * {@code out[outOff + t·rows + r] = Σ_i W[r, i]·x[xOff + t·cols + i]} for {@code t < n}, {@code r < rows},
     * W being {@code rows} rows of {@code cols} values of {@code type} from byte 0 of {@code data}:
     * {@link #packPanel} for every panel, then {@link #multiplyRowGroup} for every row group, each a parallel job.
     */
    public static void multiply(GgmlType type, MemorySegment data, int rows, int cols,
                                float[] x, int xOff, int n, float[] out, int outOff) {
        if (rows <= 0 || n <= 0) return;
        Scratch caller = SCRATCH.get();
        if (caller.packedX.length < packedSize(n, cols)) caller.packedX = new float[packedSize(n, cols)];
        float[] packedX = caller.packedX;
        Parallel.forRange(panels(n), jp -> packPanel(x, xOff, n, cols, jp, packedX, 0));
        Parallel.forRange(rowGroups(rows), g -> multiplyRowGroup(type, data, rows, cols, packedX, 0, n, g, out, outOff));
    }

    /** How many panels (pack tasks) {@code n} input rows make. */
    public static int panels(int n) {
        return (n + NT - 1) / NT;
    }

    /** Floats that {@code n} input rows of {@code cols} depths take once packed. */
    public static int packedSize(int n, int cols) {
        return panels(n) * panelSize(cols);
    }

    private static int panelSize(int cols) {
        return 2 * NT * ((cols + 1) / 2);
    }

    /** How many row groups (compute tasks of {@link #MR} weight rows) a matrix of {@code rows} rows makes. */
    public static int rowGroups(int rows) {
        return (rows + MR - 1) / MR;
    }

    /**
     * Row group {@code g} of the product: {@code out[outOff + t·rows + r]} for weight rows
     * {@code r ∈ [g·MR, g·MR + MR)} and every input row {@code t < n}, from the input rows packed
     * at {@code packedX[packedOff..]} by {@link #packPanel}. The group's weight rows are dequantised
     * once and multiplied with every panel.
     */
    public static void multiplyRowGroup(GgmlType type, MemorySegment data, int rows, int cols, float[] packedX, int packedOff,
                                        int n, int g, float[] out, int outOff) {
        Scratch scratch = SCRATCH.get();
        int r0 = g * MR, valid = Math.min(MR, rows - r0), half = (cols + 1) / 2, panelSize = panelSize(cols);
        MemorySegment w = dequantizeRows(type, data, type.rowBytes(cols), r0, valid, cols, scratch);
        for (int jp = 0; jp < panels(n); jp++) {
            int t0 = jp * NT, width = panelWidth(n, t0), base = packedOff + jp * panelSize;
            if (width == 3 * TV) {
                kernel3(w, half, 0, packedX, base, scratch.tile);
                kernel3(w, half, 4, packedX, base, scratch.tile);
            } else if (width == 2 * TV) kernel2(w, half, packedX, base, scratch.tile);
            else kernel1(w, half, packedX, base, scratch.tile);
            flush(scratch.tile, out, outOff + t0 * rows + r0, rows, valid, Math.min(width, n - t0));
        }
    }

    /** The width of the panel starting at input row t0: NT, or one or two vectors' worth for a last panel that narrow. */
    private static int panelWidth(int n, int t0) {
        return Math.min(NT, (n - t0 + TV - 1) / TV * TV);
    }

    /**
     * Packs panel {@code jp}, input rows [jp·NT, jp·NT + w) (w the panel width), into pairs of depths:
     * x[t, p] goes to packedX[packedOff + jp·(panel size) + (p/2)·2w + 2j + p%2] for row t = jp·NT + j,
     * so that a vector holds x[·, p] and x[·, p+1] of w/2 rows side by side; zero beyond row n and at
     * depth {@code cols} when it is odd.
     */
    public static void packPanel(float[] x, int xOff, int n, int cols, int jp, float[] packedX, int packedOff) {
        int base = packedOff + jp * panelSize(cols), t0 = jp * NT, w = panelWidth(n, t0), count = Math.min(w, n - t0), half = (cols + 1) / 2;
        // Blocks of 8 whole rows × 8 whole pairs as 8×8 transposes of pairs (five times faster); the rest, and other vector widths, a pair at a time.
        int blockRows = TV == 8 ? count / 8 * 8 : 0, blockPairs = TV == 8 ? cols / 2 / 8 * 8 : 0;
        for (int j0 = 0; j0 < blockRows; j0 += 8)
            for (int q0 = 0; q0 < blockPairs; q0 += 8)
                transpose8(x, xOff + (t0 + j0) * cols + 2 * q0, cols, packedX, base + q0 * 2 * w + 2 * j0, 2 * w);
        for (int j = 0; j < w; j++) {
            int q0 = j < blockRows ? blockPairs : 0, d = base + 2 * j + q0 * 2 * w;
            if (j >= count) {
                for (int q = 0; q < half; q++, d += 2 * w) {
                    packedX[d] = 0f;
                    packedX[d + 1] = 0f;
                }
                continue;
            }
            int src = xOff + (t0 + j) * cols, p = 2 * q0;
            for (; p + 1 < cols; p += 2, d += 2 * w) {
                packedX[d] = x[src + p];
                packedX[d + 1] = x[src + p + 1];
            }
            if (p < cols) {
                packedX[d] = x[src + p];
                packedX[d + 1] = 0f;
            }
        }
    }

    /** Two-vector lane selections of the 8×8 transpose: for distance d = 1, 2, 4, the lanes of the first and of the second result. */
    private static final DoubleVector[] TRANSPOSE = transposeSelections();

    private static DoubleVector[] transposeSelections() {
        if (PAIRS.length() != 8) return new DoubleVector[0];
        DoubleVector[] s = new DoubleVector[6];
        for (int d = 1, k = 0; d < 8; d *= 2) {
            double[] first = new double[8], second = new double[8];
            for (int l = 0; l < 8; l++) { // index i < 8: lane i of the first source; 8 + i: lane i of the second
                first[l] = (l & d) == 0 ? l : 8 + l - d;
                second[l] = (l & d) == 0 ? l + d : 8 + l;
            }
            s[k++] = DoubleVector.fromArray(PAIRS, first, 0);
            s[k++] = DoubleVector.fromArray(PAIRS, second, 0);
        }
        return s;
    }

    /**
     * With 8 pairs per vector: 8 rows of 8 pairs, row i from x[src + i·cols], transposed, so that
     * pair q of the 8 rows lands side by side at out[dst + q·dstStride ..+16): three rounds that swap
     * the off-diagonal halves of the 2×2, 4×4 and 8×8 blocks.
     */
    private static void transpose8(float[] x, int src, int cols, float[] out, int dst, int dstStride) {
        DoubleVector a1 = TRANSPOSE[0], b1 = TRANSPOSE[1], a2 = TRANSPOSE[2], b2 = TRANSPOSE[3], a4 = TRANSPOSE[4], b4 = TRANSPOSE[5];
        DoubleVector v0 = FloatVector.fromArray(S, x, src).reinterpretAsDoubles(), v1 = FloatVector.fromArray(S, x, src + cols).reinterpretAsDoubles();
        DoubleVector v2 = FloatVector.fromArray(S, x, src + 2 * cols).reinterpretAsDoubles(), v3 = FloatVector.fromArray(S, x, src + 3 * cols).reinterpretAsDoubles();
        DoubleVector v4 = FloatVector.fromArray(S, x, src + 4 * cols).reinterpretAsDoubles(), v5 = FloatVector.fromArray(S, x, src + 5 * cols).reinterpretAsDoubles();
        DoubleVector v6 = FloatVector.fromArray(S, x, src + 6 * cols).reinterpretAsDoubles(), v7 = FloatVector.fromArray(S, x, src + 7 * cols).reinterpretAsDoubles();
        DoubleVector t0 = a1.selectFrom(v0, v1), t1 = b1.selectFrom(v0, v1), t2 = a1.selectFrom(v2, v3), t3 = b1.selectFrom(v2, v3);
        DoubleVector t4 = a1.selectFrom(v4, v5), t5 = b1.selectFrom(v4, v5), t6 = a1.selectFrom(v6, v7), t7 = b1.selectFrom(v6, v7);
        v0 = a2.selectFrom(t0, t2); v2 = b2.selectFrom(t0, t2); v1 = a2.selectFrom(t1, t3); v3 = b2.selectFrom(t1, t3);
        v4 = a2.selectFrom(t4, t6); v6 = b2.selectFrom(t4, t6); v5 = a2.selectFrom(t5, t7); v7 = b2.selectFrom(t5, t7);
        t0 = a4.selectFrom(v0, v4); t4 = b4.selectFrom(v0, v4); t1 = a4.selectFrom(v1, v5); t5 = b4.selectFrom(v1, v5);
        t2 = a4.selectFrom(v2, v6); t6 = b4.selectFrom(v2, v6); t3 = a4.selectFrom(v3, v7); t7 = b4.selectFrom(v3, v7);
        t0.reinterpretAsFloats().intoArray(out, dst);
        t1.reinterpretAsFloats().intoArray(out, dst + dstStride);
        t2.reinterpretAsFloats().intoArray(out, dst + 2 * dstStride);
        t3.reinterpretAsFloats().intoArray(out, dst + 3 * dstStride);
        t4.reinterpretAsFloats().intoArray(out, dst + 4 * dstStride);
        t5.reinterpretAsFloats().intoArray(out, dst + 5 * dstStride);
        t6.reinterpretAsFloats().intoArray(out, dst + 6 * dstStride);
        t7.reinterpretAsFloats().intoArray(out, dst + 7 * dstStride);
    }

    /**
     * Dequantises weight rows [r0, r0 + valid) into scratch.weights[r·2h + p] (h = ⌈cols/2⌉), zero for
     * a missing last weight of an odd row and for rows beyond {@code valid}; returns them viewed as a
     * segment, from which the kernels read W[r, 2q] and W[r, 2q+1] together, as the two halves of one
     * double (the first in the low half, as a little-endian vector lane holds it).
     */
    private static MemorySegment dequantizeRows(GgmlType type, MemorySegment data, long rowBytes, int r0, int valid, int cols, Scratch scratch) {
        int stride = cols + cols % 2;
        if (scratch.weights.length < MR * stride) {
            scratch.weights = new float[MR * stride];
            scratch.weightView = MemorySegment.ofArray(scratch.weights);
        }
        float[] w = scratch.weights;
        if (stride == cols) { // the rows lie back to back, as in the segment: one call (a row's overheads are not small)
            Quant.dequantize(type, data, r0 * rowBytes, w, 0, valid * cols);
        } else {
            for (int r = 0; r < valid; r++) {
                Quant.dequantize(type, data, (r0 + r) * rowBytes, w, r * stride, cols);
                w[r * stride + cols] = 0f;
            }
        }
        Arrays.fill(w, valid * stride, MR * stride, 0f);
        return scratch.weightView;
    }

    /**
     * The register tile of weight rows [r0, r0 + 4) and a full panel: for its vectors v < 3,
     * tile[r·TILE_ROW + v·VL + lane] = Σ_q pair(W[r, 2q], W[r, 2q+1])[lane]·packedX[base + q·3VL + v·VL + lane],
     * in twelve accumulators. (All eight rows at once, in 24 accumulators, ran five times slower
     * once compiled.) Writing the tile out is left to {@link #flush}, which keeps the kernels small enough
     * for the JIT to hold every vector in a register.
     */
    private static void kernel3(MemorySegment w, int half, int r0, float[] px, int base, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
        long w0 = (long) r0 * half, w1 = w0 + half, w2 = w1 + half, w3 = w2 + half;
        for (int q = 0; q < half; q++) {
            int bo = base + q * 3 * VL;
            FloatVector b0 = FloatVector.fromArray(S, px, bo), b1 = FloatVector.fromArray(S, px, bo + VL), b2 = FloatVector.fromArray(S, px, bo + 2 * VL);
            FloatVector a = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, w0 + q)).reinterpretAsFloats();
            c00 = a.fma(b0, c00); c01 = a.fma(b1, c01); c02 = a.fma(b2, c02);
            a = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, w1 + q)).reinterpretAsFloats();
            c10 = a.fma(b0, c10); c11 = a.fma(b1, c11); c12 = a.fma(b2, c12);
            a = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, w2 + q)).reinterpretAsFloats();
            c20 = a.fma(b0, c20); c21 = a.fma(b1, c21); c22 = a.fma(b2, c22);
            a = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, w3 + q)).reinterpretAsFloats();
            c30 = a.fma(b0, c30); c31 = a.fma(b1, c31); c32 = a.fma(b2, c32);
        }
        int t = r0 * TILE_ROW;
        c00.intoArray(tile, t); c01.intoArray(tile, t + VL); c02.intoArray(tile, t + 2 * VL);
        c10.intoArray(tile, t + TILE_ROW); c11.intoArray(tile, t + TILE_ROW + VL); c12.intoArray(tile, t + TILE_ROW + 2 * VL);
        c20.intoArray(tile, t + 2 * TILE_ROW); c21.intoArray(tile, t + 2 * TILE_ROW + VL); c22.intoArray(tile, t + 2 * TILE_ROW + 2 * VL);
        c30.intoArray(tile, t + 3 * TILE_ROW); c31.intoArray(tile, t + 3 * TILE_ROW + VL); c32.intoArray(tile, t + 3 * TILE_ROW + 2 * VL);
    }

    /** The register tile of a two-vector panel, all eight weight rows: tile[r·TILE_ROW + v·VL + lane] for v < 2, sixteen accumulators. */
    private static void kernel2(MemorySegment w, int half, float[] px, int base, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        for (int q = 0; q < half; q++) {
            int bo = base + q * 2 * VL;
            FloatVector b0 = FloatVector.fromArray(S, px, bo), b1 = FloatVector.fromArray(S, px, bo + VL);
            FloatVector a = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, q)).reinterpretAsFloats();
            c00 = a.fma(b0, c00); c01 = a.fma(b1, c01);
            a = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, half + q)).reinterpretAsFloats();
            c10 = a.fma(b0, c10); c11 = a.fma(b1, c11);
            a = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, 2 * half + q)).reinterpretAsFloats();
            c20 = a.fma(b0, c20); c21 = a.fma(b1, c21);
            a = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, 3 * half + q)).reinterpretAsFloats();
            c30 = a.fma(b0, c30); c31 = a.fma(b1, c31);
            a = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, 4 * half + q)).reinterpretAsFloats();
            c40 = a.fma(b0, c40); c41 = a.fma(b1, c41);
            a = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, 5 * half + q)).reinterpretAsFloats();
            c50 = a.fma(b0, c50); c51 = a.fma(b1, c51);
            a = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, 6 * half + q)).reinterpretAsFloats();
            c60 = a.fma(b0, c60); c61 = a.fma(b1, c61);
            a = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, 7 * half + q)).reinterpretAsFloats();
            c70 = a.fma(b0, c70); c71 = a.fma(b1, c71);
        }
        c00.intoArray(tile, 0 * TILE_ROW); c01.intoArray(tile, 0 * TILE_ROW + VL);
        c10.intoArray(tile, 1 * TILE_ROW); c11.intoArray(tile, 1 * TILE_ROW + VL);
        c20.intoArray(tile, 2 * TILE_ROW); c21.intoArray(tile, 2 * TILE_ROW + VL);
        c30.intoArray(tile, 3 * TILE_ROW); c31.intoArray(tile, 3 * TILE_ROW + VL);
        c40.intoArray(tile, 4 * TILE_ROW); c41.intoArray(tile, 4 * TILE_ROW + VL);
        c50.intoArray(tile, 5 * TILE_ROW); c51.intoArray(tile, 5 * TILE_ROW + VL);
        c60.intoArray(tile, 6 * TILE_ROW); c61.intoArray(tile, 6 * TILE_ROW + VL);
        c70.intoArray(tile, 7 * TILE_ROW); c71.intoArray(tile, 7 * TILE_ROW + VL);
    }

    /**
     * The register tile of a one-vector panel: tile[r·TILE_ROW + lane], eight accumulators. One
     * broadcast feeds one multiply-add here, so this is the slowest per input row.
     */
    private static void kernel1(MemorySegment w, int half, float[] px, int base, float[] tile) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (int q = 0; q < half; q++) {
            FloatVector b = FloatVector.fromArray(S, px, base + q * VL);
            c0 = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, q)).reinterpretAsFloats().fma(b, c0);
            c1 = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, half + q)).reinterpretAsFloats().fma(b, c1);
            c2 = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, 2 * half + q)).reinterpretAsFloats().fma(b, c2);
            c3 = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, 3 * half + q)).reinterpretAsFloats().fma(b, c3);
            c4 = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, 4 * half + q)).reinterpretAsFloats().fma(b, c4);
            c5 = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, 5 * half + q)).reinterpretAsFloats().fma(b, c5);
            c6 = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, 6 * half + q)).reinterpretAsFloats().fma(b, c6);
            c7 = DoubleVector.broadcast(PAIRS, w.getAtIndex(PAIR, 7 * half + q)).reinterpretAsFloats().fma(b, c7);
        }
        c0.intoArray(tile, 0); c1.intoArray(tile, TILE_ROW); c2.intoArray(tile, 2 * TILE_ROW); c3.intoArray(tile, 3 * TILE_ROW);
        c4.intoArray(tile, 4 * TILE_ROW); c5.intoArray(tile, 5 * TILE_ROW); c6.intoArray(tile, 6 * TILE_ROW); c7.intoArray(tile, 7 * TILE_ROW);
    }

    /**
     * Writes the valid weight rows × input rows of a tile to the output, transposed, adding each
     * output's two lanes (even depths + odd depths): input row j of the panel is lanes 2j and 2j+1
     * of its weight row's vectors, laid end to end.
     */
    private static void flush(float[] tile, float[] out, int o, int ldOut, int validRows, int inputs) {
        for (int j = 0; j < inputs; j++) {
            int dst = o + j * ldOut;
            for (int r = 0; r < validRows; r++) {
                int t = r * TILE_ROW + 2 * j;
                out[dst + r] = tile[t] + tile[t + 1];
            }
        }
    }
}
