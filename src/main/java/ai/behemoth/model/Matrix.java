package ai.behemoth.model;

import ai.behemoth.tensor.Parallel;
import ai.behemoth.tensor.VectorMath;
import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tensor.quant.Q8Activations;
import ai.behemoth.tensor.quant.Q8Products;
import ai.behemoth.tensor.quant.Quant;
import ai.behemoth.tensor.quant.QuantMatMul;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A row-major weight matrix {@code [rows, cols]} of any {@link GgmlType} in a memory segment (a
 * mapped file or a buffer quantised on load), used as a linear layer: {@code y = x·Wᵀ}.
 *
 * <p>{@link #multiply} is a matrix-matrix product over {@code n} input rows. From
 * {@link #DEQUANTIZE_MIN_ROWS} input rows on (prefill) it is {@link QuantMatMul}: weight rows
 * dequantised once, eight at a time, and multiplied with the input rows in the vector lanes, each
 * output the sum of two chains of fused multiply-adds (even and odd depths, in order). With fewer
 * input rows (decode) the weight rows are split into blocks, one parallel task each, and go straight
 * through {@link Quant#dotRows}, four at a time ({@link MatrixProducts} runs several such products as
 * one parallel job). Either way each output element is computed in a fixed order, so the bits do not
 * depend on the thread count, nor on whether the JIT has compiled the kernels yet: lanes are summed
 * in a fixed order ({@link VectorMath#sumLanes}, and a fixed tree in {@link Quant}) and the scalar
 * tails fuse multiply and add as the vector bodies do.
 * The segment must be readable from any thread (a shared or global arena): the pool's threads read it.
 *
 * <p>A Q4_0, Q8_0 or K-quant matrix may also carry {@code q8Groups}, its rows interleaved for
 * {@link Q8Products} ({@link #withQ8Activations}): its products in row blocks then quantise the input
 * to 8 bits and multiply in integers, as llama.cpp does, instead of exactly in float32. For Q4_0
 * and Q8_0 that is every product (an input row gets the same bits in a prompt as in a decode step);
 * for the others those with few input rows.
 */
public record Matrix(String name, GgmlType type, MemorySegment data, int rows, int cols, MemorySegment q8Groups) {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Below this many input rows a quantised row is dotted in place rather than dequantised first. */
    private static final int DEQUANTIZE_MIN_ROWS = 4;
    /** Row blocks are whole groups of this many rows, a multiple of {@link Q8Products#G}. */
    private static final int ROW_GROUP = 32;
    /**
     * Row blocks of a matrix per thread. Few and long: a block is one stretch of memory a thread
     * streams through, and decoding a model larger than the caches is bound by how fast the cores
     * stream. Blocks of 32 rows kept the two cores of the benchmark machine at about 28 GB/s on a
     * SwiGLU pair's expert matrices, blocks of 1,024 rows at 40
     * (generation on a 1.7B-parameter Q4_0 file with 8-bit activations: 81 → 100 tokens/s). Runs of
     * 32-row blocks claimed as {@link Parallel#forRange} claims indices, long first and short last,
     * measured slower (91–93 against 96–97). A row's result does not depend on the block it falls in,
     * so neither do the bits.
     */
    private static final int TASKS_PER_THREAD = 2;
    /** Four vectors' lanes on their way to {@link #dots}'s sums. */
    private static final ThreadLocal<float[]> DOT_LANES = ThreadLocal.withInitial(() -> new float[4 * S.length()]);
    /** The caller's 8-bit input rows of {@link #multiply}. */
    private static final ThreadLocal<Q8Activations> ACTIVATIONS = ThreadLocal.withInitial(Q8Activations::new);

    public Matrix {
        if (data.byteSize() != rows * type.rowBytes(cols))
            throw new IllegalArgumentException(name + ": " + data.byteSize() + " bytes do not hold [" + rows + ", " + cols + "] " + type);
        if (q8Groups != null && (!Q8Products.supports(type) || q8Groups.byteSize() != Q8Products.interleavedBytes(type, rows, cols) || rows % Q8Products.G != 0))
            throw new IllegalArgumentException(name + ": no interleaved copy of [" + rows + ", " + cols + "] " + type);
    }

    public Matrix(String name, GgmlType type, MemorySegment data, int rows, int cols) {
        this(name, type, data, rows, cols, null);
    }

    /**
     * This matrix with its rows also interleaved into {@code arena} for 8-bit activations, when
     * {@link Q8Products} supports its type and its rows make whole groups; otherwise this matrix,
     * exact. A Q4_0 or Q8_0 matrix's products then read only the interleaved rows, so a mapped
     * file's pages of it are released (an embedding lookup, {@link #row}, maps back the rows it reads).
     */
    public Matrix withQ8Activations(Arena arena) {
        if (!Q8Products.supports(type) || rows % Q8Products.G != 0 || q8Groups != null) return this;
        MemorySegment groups = Q8Products.interleave(type, data, rows, cols, arena);
        if (releasesRows()) data.unload();
        return new Matrix(name, type, data, rows, cols, groups);
    }

    /** Whether the rows' mapped pages are let go once interleaved: every product of a Q4_0 or Q8_0 matrix reads the copy. */
    private boolean releasesRows() {
        return Q8Products.multipliesFourRows(type) && data.isMapped();
    }

    /** Bytes of weights held in memory: the rows (unless released for their interleaved copy) and the copy if any. */
    public long bytes() {
        if (q8Groups == null) return data.byteSize();
        return (releasesRows() ? 0 : data.byteSize()) + q8Groups.byteSize();
    }

    public long rowBytes() {
        return type.rowBytes(cols);
    }

    /** Rows {@code [first, first + count)} as a matrix of their own (one expert of a stacked tensor). */
    public Matrix slice(int first, int count) {
        MemorySegment rowsData = data.asSlice(first * rowBytes(), count * rowBytes());
        boolean wholeGroups = q8Groups != null && first % Q8Products.G == 0 && count % Q8Products.G == 0; // else the slice is exact
        MemorySegment groups = wholeGroups ? q8Groups.asSlice(Q8Products.interleavedBytes(type, first, cols), Q8Products.interleavedBytes(type, count, cols)) : null;
        return new Matrix(name + "[" + first + "]", type, rowsData, count, cols, groups);
    }

    /** Writes row {@code r} as floats into {@code out[outOff..+cols)} (an embedding lookup). */
    public void row(int r, float[] out, int outOff) {
        Quant.dequantize(type, data, r * rowBytes(), out, outOff, cols);
    }

    /** {@code out[t·rows + r] = Σ_i W[r, i]·x[xOff + t·cols + i]} for {@code t < n} (out rows start at {@code outOff}). */
    public void multiply(float[] x, int xOff, int n, float[] out, int outOff) {
        if (byRowBlocks(n)) {
            Q8Activations q8 = q8Groups == null ? null : ACTIVATIONS.get();
            if (q8 != null) q8.quantize(x, xOff, n, cols);
            Parallel.forRange(rowBlocks(), b -> multiplyRowBlock(b, x, xOff, n, q8, out, outOff));
            return;
        }
        QuantMatMul.multiply(type, data, rows, cols, x, xOff, n, out, outOff);
    }

    /**
     * Whether a product over {@code n} input rows runs in row blocks, weight rows dotted in place
     * (decode, and every product of a Q4_0 or Q8_0 matrix with 8-bit activations), rather than
     * dequantised first. (The K types' integer kernels, one input row at a time, are slower than the
     * float products over many rows, so those matrices keep them.)
     */
    boolean byRowBlocks(int n) {
        return n < DEQUANTIZE_MIN_ROWS || (q8Groups != null && Q8Products.multipliesFourRows(type));
    }

    /** How many row blocks (parallel tasks) {@link #multiplyRowBlock} splits the weight rows into. */
    int rowBlocks() {
        int block = rowBlockRows();
        return (rows + block - 1) / block;
    }

    /** Weight rows per row block: the rows shared into {@link #TASKS_PER_THREAD} blocks a thread, whole groups. */
    int rowBlockRows() {
        return Math.max(ROW_GROUP, rows / (TASKS_PER_THREAD * Parallel.threads()) / ROW_GROUP * ROW_GROUP);
    }

    /** The first weight row of row block {@code b}. */
    int rowBlockFirst(int b) {
        return b * rowBlockRows();
    }

    /** How many weight rows row block {@code b} holds (the last may hold fewer). */
    int rowBlockCount(int b) {
        return Math.min(rows, rowBlockFirst(b) + rowBlockRows()) - rowBlockFirst(b);
    }

    /**
     * Block {@code b} of {@link #multiply} in row blocks: the block's weight rows against each input
     * row through {@link Quant#dotRows}, or, with {@code q8Groups}, through {@link Q8Products} against
     * {@code q8}, the input rows quantised (Q4_0 and Q8_0 four input rows at a time). One input row
     * (decode) goes through the block in one pass; several go {@link #ROW_GROUP} rows at a time,
     * each input row in turn, so that the others find those rows in L1.
     */
    void multiplyRowBlock(int b, float[] x, int xOff, int n, Q8Activations q8, float[] out, int outOff) {
        int end = rowBlockFirst(b) + rowBlockCount(b), step = n == 1 ? rowBlockCount(b) : ROW_GROUP;
        for (int first = rowBlockFirst(b); first < end; first += step) {
            int count = Math.min(step, end - first), t = 0;
            if (q8Groups != null) {
                if (Q8Products.multipliesFourRows(type))
                    for (; t + 4 <= n; t += 4) Q8Products.multiply4(type, q8Groups, first, count, cols, q8, t, out, outOff + t * rows + first, rows);
                for (; t < n; t++) Q8Products.multiply(type, q8Groups, first, count, cols, q8, t, out, outOff + t * rows + first);
                continue;
            }
            for (; t < n; t++)
                Quant.dotRows(type, data, first * rowBytes(), rowBytes(), count, x, xOff + t * cols, cols, out, outOff + t * rows + first);
        }
    }

    /** Whether products take 8-bit activations ({@link #withQ8Activations}). */
    boolean q8Activations() {
        return q8Groups != null;
    }

    /**
     * {@code scores[t] = dot(x, xOff, keys, t·stride + kOff, n)} for t in [from, to], each with the bits
     * of {@link #dot}: four keys at a time, so that the four lane sums, serial chains of additions, overlap
     * (decode attention's scores).
     */
    static void dots(float[] x, int xOff, float[] keys, int stride, int kOff, int n, int from, int to, float[] scores) {
        int t = from, bound = S.loopBound(n), l = S.length();
        float[] lanes = DOT_LANES.get();
        for (; t + 3 <= to; t += 4) {
            int k0 = t * stride + kOff, k1 = k0 + stride, k2 = k1 + stride, k3 = k2 + stride;
            FloatVector acc0 = FloatVector.zero(S), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (int i = 0; i < bound; i += l) {
                FloatVector v = FloatVector.fromArray(S, x, xOff + i);
                acc0 = v.fma(FloatVector.fromArray(S, keys, k0 + i), acc0);
                acc1 = v.fma(FloatVector.fromArray(S, keys, k1 + i), acc1);
                acc2 = v.fma(FloatVector.fromArray(S, keys, k2 + i), acc2);
                acc3 = v.fma(FloatVector.fromArray(S, keys, k3 + i), acc3);
            }
            acc0.intoArray(lanes, 0);
            acc1.intoArray(lanes, l);
            acc2.intoArray(lanes, 2 * l);
            acc3.intoArray(lanes, 3 * l);
            float s0 = VectorMath.sumLanes(lanes, 0, l), s1 = VectorMath.sumLanes(lanes, l, l);
            float s2 = VectorMath.sumLanes(lanes, 2 * l, l), s3 = VectorMath.sumLanes(lanes, 3 * l, l);
            for (int i = bound; i < n; i++) { // dot's scalar tail
                s0 = Math.fma(x[xOff + i], keys[k0 + i], s0);
                s1 = Math.fma(x[xOff + i], keys[k1 + i], s1);
                s2 = Math.fma(x[xOff + i], keys[k2 + i], s2);
                s3 = Math.fma(x[xOff + i], keys[k3 + i], s3);
            }
            scores[t] = s0;
            scores[t + 1] = s1;
            scores[t + 2] = s2;
            scores[t + 3] = s3;
        }
        for (; t <= to; t++) scores[t] = dot(x, xOff, keys, t * stride + kOff, n);
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
}
