package ai.behemoth.model;

import ai.behemoth.tensor.Parallel;
import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tensor.quant.Quant;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * A row-major weight matrix {@code [rows, cols]} of any {@link GgmlType} in a memory segment (a
 * mapped file or a buffer quantised on load), used as a linear layer: {@code y = x·Wᵀ}.
 *
 * <p>{@link #multiply} is a matrix-matrix product over {@code n} input rows: the weight rows are
 * split into blocks, one parallel task each, and each weight row is dequantised once into a float
 * row and then multiplied with the input rows, four at a time, while it sits in L1. With one or a
 * few input rows (decode) a row goes straight through {@link Quant#dot} instead. Each output
 * element is one dot product in a fixed order, so the bits do not depend on the thread count.
 * The segment must be readable from any thread (a shared or global arena): the pool's threads read it.
 */
public record Matrix(String name, GgmlType type, MemorySegment data, int rows, int cols) {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Weight rows per parallel task. */
    private static final int ROW_BLOCK = 16;
    /** Below this many input rows a quantised row is dotted in place rather than dequantised first. */
    private static final int DEQUANTIZE_MIN_ROWS = 4;
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
        int blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        Parallel.forRange(blocks, b -> {
            for (int r = b * ROW_BLOCK, end = Math.min(rows, r + ROW_BLOCK); r < end; r++) multiplyRow(r, x, xOff, n, out, outOff);
        });
    }

    private void multiplyRow(int r, float[] x, int xOff, int n, float[] out, int outOff) {
        long off = r * rowBytes();
        if (n < DEQUANTIZE_MIN_ROWS) {
            for (int t = 0; t < n; t++) out[outOff + t * rows + r] = Quant.dot(type, data, off, x, xOff + t * cols, cols);
            return;
        }
        float[][] holder = ROW.get();
        if (holder[0].length < cols) holder[0] = new float[cols];
        float[] w = holder[0];
        Quant.dequantize(type, data, off, w, 0, cols);
        int t = 0;
        for (; t + 4 <= n; t += 4) dot4(w, x, xOff + t * cols, cols, out, outOff + t * rows + r, rows);
        for (; t < n; t++) out[outOff + t * rows + r] = dot(w, x, xOff + t * cols, cols);
    }

    /**
     * Four dot products of {@code w} with four consecutive rows of {@code x} (stride {@code n}),
     * written {@code outStride} apart: each weight vector is loaded once for four FMAs. Each result
     * has the same bits as {@link #dot} on that row.
     */
    static void dot4(float[] w, float[] x, int xOff, int n, float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += S.length()) {
            FloatVector wv = FloatVector.fromArray(S, w, i);
            a0 = wv.fma(FloatVector.fromArray(S, x, xOff + i), a0);
            a1 = wv.fma(FloatVector.fromArray(S, x, xOff + n + i), a1);
            a2 = wv.fma(FloatVector.fromArray(S, x, xOff + 2 * n + i), a2);
            a3 = wv.fma(FloatVector.fromArray(S, x, xOff + 3 * n + i), a3);
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD), s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD), s3 = a3.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s0 += w[i] * x[xOff + i];
            s1 += w[i] * x[xOff + n + i];
            s2 += w[i] * x[xOff + 2 * n + i];
            s3 += w[i] * x[xOff + 3 * n + i];
        }
        out[outOff] = s0;
        out[outOff + outStride] = s1;
        out[outOff + 2 * outStride] = s2;
        out[outOff + 3 * outStride] = s3;
    }

    /** Σ w[i]·x[xOff + i] over float arrays. */
    static float dot(float[] w, float[] x, int xOff, int n) {
        return dot(w, 0, x, xOff, n);
    }

    /** Σ a[aOff + i]·b[bOff + i] for i < n. */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += S.length())
            acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /** y[yOff + i] += alpha·x[xOff + i] for i < n. */
    static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += S.length())
            FloatVector.fromArray(S, x, xOff + i).fma(FloatVector.broadcast(S, alpha), FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }
}
