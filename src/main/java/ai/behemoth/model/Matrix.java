package ai.behemoth.model;

import ai.behemoth.tensor.Parallel;
import ai.behemoth.tensor.VectorMath;
import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tensor.quant.Quant;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * A row-major weight matrix {@code [rows, cols]} of any {@link GgmlType} in a memory segment (a
 * mapped file or a buffer quantised on load), used as a linear layer: {@code y = x·Wᵀ}.
 *
 * <p>{@link #multiply} is a matrix-matrix product over {@code n} input rows: the weight rows are
 * split into blocks, one parallel task each; weight rows are dequantised once, two at a time, into
 * float rows that stay in L1 while they are multiplied with the input rows four at a time (a 2 × 4
 * register tile). With one or a few input rows (decode) the weight rows go straight through
 * {@link Quant#dotRows} instead, four at a time ({@link MatrixProducts} runs several such products
 * as one parallel job). Each output element is one dot product in a fixed order, so the bits
 * do not depend on the thread count, nor on whether the JIT has compiled the kernels yet: lanes are
 * summed in a fixed order ({@link VectorMath#sumLanes}, and a fixed tree in {@link Quant}) and the
 * scalar tails fuse multiply and add as the vector bodies do.
 * The segment must be readable from any thread (a shared or global arena): the pool's threads read it.
 */
public record Matrix(String name, GgmlType type, MemorySegment data, int rows, int cols) {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Weight rows per parallel task. */
    private static final int ROW_BLOCK = 16;
    /** Below this many input rows a quantised row is dotted in place rather than dequantised first. */
    private static final int DEQUANTIZE_MIN_ROWS = 4;
    /** Weight rows per parallel task when rows are dotted in place. */
    private static final int FEW_ROWS_BLOCK = 16;
    private static final ThreadLocal<float[][]> ROW = ThreadLocal.withInitial(() -> new float[1][0]);

    public Matrix {
        if (data.byteSize() != rows * type.rowBytes(cols))
            throw new IllegalArgumentException(name + ": " + data.byteSize() + " bytes do not hold [" + rows + ", " + cols + "] " + type);
    }

    public long rowBytes() {
        return type.rowBytes(cols);
    }

    /** Rows {@code [first, first + count)} as a matrix of their own (one expert of a stacked tensor). */
    public Matrix slice(int first, int count) {
        return new Matrix(name + "[" + first + "]", type, data.asSlice(first * rowBytes(), count * rowBytes()), count, cols);
    }

    /** Writes row {@code r} as floats into {@code out[outOff..+cols)} (an embedding lookup). */
    public void row(int r, float[] out, int outOff) {
        Quant.dequantize(type, data, r * rowBytes(), out, outOff, cols);
    }

    /** {@code out[t·rows + r] = Σ_i W[r, i]·x[xOff + t·cols + i]} for {@code t < n} (out rows start at {@code outOff}). */
    public void multiply(float[] x, int xOff, int n, float[] out, int outOff) {
        if (fewRows(n)) {
            Parallel.forRange(fewRowBlocks(), b -> multiplyFewRows(b, x, xOff, n, out, outOff));
            return;
        }
        int blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        Parallel.forRange(blocks, b -> {
            int first = b * ROW_BLOCK, end = Math.min(rows, first + ROW_BLOCK);
            float[][] holder = ROW.get();
            if (holder[0].length < 2 * cols) holder[0] = new float[2 * cols];
            float[] w = holder[0];
            int r = first;
            for (; r + 2 <= end; r += 2) {
                Quant.dequantize(type, data, r * rowBytes(), w, 0, cols);
                Quant.dequantize(type, data, (r + 1) * rowBytes(), w, cols, cols);
                int t = 0;
                for (; t + 4 <= n; t += 4) dot2x4(w, cols, x, xOff + t * cols, out, outOff + t * rows + r, rows);
                for (; t < n; t++) {
                    out[outOff + t * rows + r] = dot(w, 0, x, xOff + t * cols, cols);
                    out[outOff + t * rows + r + 1] = dot(w, cols, x, xOff + t * cols, cols);
                }
            }
            for (; r < end; r++) {
                Quant.dequantize(type, data, r * rowBytes(), w, 0, cols);
                for (int t = 0; t < n; t++) out[outOff + t * rows + r] = dot(w, 0, x, xOff + t * cols, cols);
            }
        });
    }

    /** Whether a product over {@code n} input rows takes the decode path: weight rows dotted in place, not dequantised first. */
    static boolean fewRows(int n) {
        return n < DEQUANTIZE_MIN_ROWS;
    }

    /** How many row blocks (parallel tasks) {@link #multiplyFewRows} splits the weight rows into. */
    int fewRowBlocks() {
        return (rows + FEW_ROWS_BLOCK - 1) / FEW_ROWS_BLOCK;
    }

    /**
     * Block {@code b} of {@link #multiply} with few input rows (decode): the block's weight rows against
     * each input row in turn through {@link Quant#dotRows} (a second input row finds them in L1).
     */
    void multiplyFewRows(int b, float[] x, int xOff, int n, float[] out, int outOff) {
        int first = b * FEW_ROWS_BLOCK, count = Math.min(rows, first + FEW_ROWS_BLOCK) - first;
        for (int t = 0; t < n; t++)
            Quant.dotRows(type, data, first * rowBytes(), rowBytes(), count, x, xOff + t * cols, cols, out, outOff + t * rows + first);
    }

    /**
     * Eight dot products: weight rows {@code w[0, n)} and {@code w[n, 2n)} with four consecutive input
     * rows of {@code x} (stride {@code n}); results for input row j go to {@code out[outOff + j·outStride]}
     * and the next element. Each weight and input vector is loaded once for several FMAs, and each
     * result has the same bits as {@link #dot} on its pair of rows.
     */
    static void dot2x4(float[] w, int n, float[] x, int xOff, float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += S.length()) {
            FloatVector w0 = FloatVector.fromArray(S, w, i), w1 = FloatVector.fromArray(S, w, n + i);
            FloatVector x0 = FloatVector.fromArray(S, x, xOff + i), x1 = FloatVector.fromArray(S, x, xOff + n + i);
            FloatVector x2 = FloatVector.fromArray(S, x, xOff + 2 * n + i), x3 = FloatVector.fromArray(S, x, xOff + 3 * n + i);
            a0 = w0.fma(x0, a0);
            a1 = w0.fma(x1, a1);
            a2 = w0.fma(x2, a2);
            a3 = w0.fma(x3, a3);
            b0 = w1.fma(x0, b0);
            b1 = w1.fma(x1, b1);
            b2 = w1.fma(x2, b2);
            b3 = w1.fma(x3, b3);
        }
        float[] s = {VectorMath.sumLanes(a0), VectorMath.sumLanes(b0), VectorMath.sumLanes(a1), VectorMath.sumLanes(b1),
                VectorMath.sumLanes(a2), VectorMath.sumLanes(b2), VectorMath.sumLanes(a3), VectorMath.sumLanes(b3)};
        for (; i < n; i++) {
            for (int j = 0; j < 4; j++) {
                s[2 * j] = Math.fma(w[i], x[xOff + j * n + i], s[2 * j]);
                s[2 * j + 1] = Math.fma(w[n + i], x[xOff + j * n + i], s[2 * j + 1]);
            }
        }
        for (int j = 0; j < 4; j++) {
            out[outOff + j * outStride] = s[2 * j];
            out[outOff + j * outStride + 1] = s[2 * j + 1];
        }
    }

    /** Σ a[aOff + i]·b[bOff + i] for i < n. */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += S.length())
            acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
        float s = VectorMath.sumLanes(acc);
        for (; i < n; i++) s = Math.fma(a[aOff + i], b[bOff + i], s);
        return s;
    }

    /** y[yOff + i] += alpha·x[xOff + i] for i < n. */
    static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += S.length())
            FloatVector.fromArray(S, x, xOff + i).fma(FloatVector.broadcast(S, alpha), FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = Math.fma(x[xOff + i], alpha, y[yOff + i]);
    }
}
