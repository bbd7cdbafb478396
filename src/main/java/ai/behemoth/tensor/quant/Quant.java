package ai.behemoth.tensor.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Rows of any {@link GgmlType} held in memory segments (mapped files, or heap segments backed by a
 * {@code byte[]}): dot products with float vectors, dequantisation and quantisation. Offsets are in
 * bytes, counts in values; a row holds a whole number of blocks. {@link QuantScalar} is the plain
 * twin, with the block layouts written out.
 *
 * <p>The kernels use float vectors of {@code L} = 16 lanes (AVX-512) or 8 (otherwise) and load the
 * quants as {@code L} bytes at a time, widened to floats. A dot product keeps one vector of partial
 * sums per sub-block and folds it into the row's accumulator with the sub-block's scale, so the
 * scales are applied once per {@code L} values rather than once per value; {@link #dotRows} sums
 * the accumulators of four rows at once. Dequantisation computes every value with the same float
 * operations as the twin, so it matches it bit for bit. Lanes are summed by a fixed tree of lane
 * operations ({@link #sum4}), not {@code reduceLanes(ADD)}, whose order differs between the
 * interpreter and compiled code: a dot product keeps its bits while the JIT warms up.
 *
 * <p>These kernels are exact in float32. llama.cpp's scheme, the activation quantised to 8 bits and
 * multiplied in integers, rounds the activations; it is {@link Q8Products}, opt-in, over a copy of
 * the weights with the rows in the vector lanes (done on this row-major layout, with a horizontal
 * sum per row, it ran slower than these kernels: 14.7 against 17 GB/s per core on Q8_0).
 */
public final class Quant {
    private Quant() {}

    private static final VectorSpecies<Float> F =
            FloatVector.SPECIES_PREFERRED.length() >= 16 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    private static final int L = F.length();
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * L));
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(16 * L));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);

    /** Σ row[i]·x[xOff + i] over the {@code n} values of the row at {@code seg + off}; the same bits as that row in {@link #dotRows}. */
    public static float dot(GgmlType type, MemorySegment seg, long off, float[] x, int xOff, int n) {
        float[] result = new float[1];
        dotRows(type, seg, off, 0, 1, x, xOff, n, result, 0);
        return result[0];
    }

    /**
     * A matrix-vector product: {@code out[outOff + r] = Σ_i row_r[i]·x[xOff + i]} for the {@code rows}
     * rows of {@code n} values at {@code seg + off + r·stride}. Four rows at a time: each row is read
     * front to back into its own vector of partial sums, one row after another (four rows read side
     * by side were slower: short interleaved streams defeat the hardware prefetcher), and one tree of
     * lane additions ({@link #sum4}) sums the four vectors. A last group of one to three rows is
     * summed with zero vectors in place of the missing rows, so a row's bits depend only on the row
     * and {@code x}, never on the rows computed with it (nor on how a caller splits the rows).
     *
     * <p>The K-quant kernels leave their four vectors in a per-thread array for this method to sum:
     * they are large methods once compiled, C2 stops inlining in large methods, and the call to
     * {@link #sum4} it left at their end allocated every vector handed to it (2.6 GB/s of garbage in
     * a Q4_K_M model's decode). The other kernels are small enough to sum their own vectors, and
     * faster so: a vector stored and loaded straight back costs a store-forwarding stall (Q8_0,
     * 512-value rows in blocks of 16: 14.2 through the array against 15.9 Gvalues/s).
     */
    public static void dotRows(GgmlType type, MemorySegment seg, long off, long stride, int rows, float[] x, int xOff, int n,
                               float[] out, int outOff) {
        type.rowBytes(n);
        Scratch scratch = type.blockSize == 256 ? SCRATCH.get() : null; // the K-quants
        float[] sums = type == GgmlType.Q4_K || type == GgmlType.Q5_K ? scratch.subBlockSums(x, xOff, n) : null;
        for (int r = 0; r < rows; r += 4) {
            int count = Math.min(4, rows - r), at = outOff + r;
            long first = off + r * stride;
            switch (type) {
                case F32 -> dot4F32(seg, first, stride, count, x, xOff, n, out, at);
                case F16 -> dot4F16(seg, first, stride, count, x, xOff, n, out, at);
                case BF16 -> dot4BF16(seg, first, stride, count, x, xOff, n, out, at);
                case Q8_0 -> dot4Q8_0(seg, first, stride, count, x, xOff, n, out, at);
                case Q4_0 -> dot4Q4_0(seg, first, stride, count, x, xOff, n, out, at);
                case Q4_K -> dot4Q4_K(seg, first, stride, count, x, xOff, n, sums, scratch.rows);
                case Q5_K -> dot4Q5_K(seg, first, stride, count, x, xOff, n, sums, scratch.rows);
                case Q6_K -> dot4Q6_K(seg, first, stride, count, x, xOff, n, scratch.rows);
            }
            if (scratch != null) { // the K-quants left their rows' vectors in the scratch
                float[] v = scratch.rows;
                if (count < 4) Arrays.fill(v, count * L, 4 * L, 0f);
                sum4(FloatVector.fromArray(F, v, 0), FloatVector.fromArray(F, v, L), FloatVector.fromArray(F, v, 2 * L),
                        FloatVector.fromArray(F, v, 3 * L), out, at, count);
            }
        }
    }

    /** Per-thread buffers of {@link #dotRows} for the K-quants, reused from call to call. */
    private static final class Scratch {
        /** Four rows' vectors of partial sums, one after another. */
        final float[] rows = new float[4 * L];
        /** Σ x over each sub-block of 32 values (Q4_K, Q5_K). */
        float[] sums = new float[0];

        /**
         * Σ x over each sub-block of 32 values of {@code x[xOff, xOff + n)} (n a multiple of 128). The
         * K-quants' minimum term, −dmin·m·Σ a per sub-block, is the same sum for every row, so it is
         * taken once per call rather than once per row.
         */
        float[] subBlockSums(float[] x, int xOff, int n) {
            if (sums.length < n / 32) sums = new float[n / 32];
            for (int s = 0; s < n / 32; s += 4) {
                int at = xOff + 32 * s;
                FloatVector s0 = FloatVector.fromArray(F, x, at), s1 = FloatVector.fromArray(F, x, at + 32);
                FloatVector s2 = FloatVector.fromArray(F, x, at + 64), s3 = FloatVector.fromArray(F, x, at + 96);
                for (int k = L; k < 32; k += L) {
                    s0 = s0.add(FloatVector.fromArray(F, x, at + k));
                    s1 = s1.add(FloatVector.fromArray(F, x, at + 32 + k));
                    s2 = s2.add(FloatVector.fromArray(F, x, at + 64 + k));
                    s3 = s3.add(FloatVector.fromArray(F, x, at + 96 + k));
                }
                sum4(s0, s1, s2, s3, sums, s, 4);
            }
            return sums;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    // Lane-sum tree of sum4: swap the halves of a vector, then its quarters, then lanes 2 and 1 apart within a quarter.
    private static final VectorShuffle<Float> SWAP_HALVES = VectorShuffle.fromOp(F, i -> i ^ (L / 2));
    private static final VectorShuffle<Float> SWAP_QUARTERS = VectorShuffle.fromOp(F, i -> i ^ (L / 4));
    private static final VectorShuffle<Float> SWAP_2 = VectorShuffle.fromOp(F, i -> i ^ 2);
    private static final VectorShuffle<Float> SWAP_1 = VectorShuffle.fromOp(F, i -> i ^ 1);
    private static final VectorMask<Float> UPPER_HALF = VectorMask.fromLong(F, ((1L << L) - 1) & ~((1L << (L / 2)) - 1));
    private static final VectorMask<Float> ODD_QUARTERS = VectorMask.fromLong(F, L == 16 ? 0xf0f0L : 0xccL);
    private static final int Q = L / 4;

    /**
     * Sums the lanes of each of {@code a, b, c, d} into {@code out[at..at+count)} with a fixed tree of
     * exact lane operations (blend, rearrange, add), the same compiled or interpreted. Lanes of different
     * vectors never meet, so each sum is the same whatever the other three vectors hold:
     * <pre>
     * ab = [a_lo + a_hi | b_hi + b_lo]          cd likewise
     * s  = quarters [a: ab0+ab1 | c: cd1+cd0 | b: ab2+ab3 | d: cd3+cd2]
     * each quarter of s summed to its first lane: + lanes 2 apart (16 lanes only), + lanes 1 apart
     * </pre>
     */
    private static void sum4(FloatVector a, FloatVector b, FloatVector c, FloatVector d, float[] out, int at, int count) {
        FloatVector ab = a.blend(b, UPPER_HALF).add(b.blend(a, UPPER_HALF).rearrange(SWAP_HALVES));
        FloatVector cd = c.blend(d, UPPER_HALF).add(d.blend(c, UPPER_HALF).rearrange(SWAP_HALVES));
        FloatVector s = ab.blend(cd, ODD_QUARTERS).add(cd.blend(ab, ODD_QUARTERS).rearrange(SWAP_QUARTERS));
        if (L == 16) s = s.add(s.rearrange(SWAP_2));
        s = s.add(s.rearrange(SWAP_1));
        out[at] = s.lane(0);
        if (count > 1) out[at + 1] = s.lane(2 * Q);
        if (count > 2) out[at + 2] = s.lane(Q);
        if (count > 3) out[at + 3] = s.lane(3 * Q);
    }

    /** Writes the {@code n} values of the row at {@code seg + off} as floats into {@code out}. */
    public static void dequantize(GgmlType type, MemorySegment seg, long off, float[] out, int outOff, int n) {
        type.rowBytes(n);
        switch (type) {
            case F32 -> dequantizeF32(seg, off, out, outOff, n);
            case F16 -> dequantizeF16(seg, off, out, outOff, n);
            case BF16 -> dequantizeBF16(seg, off, out, outOff, n);
            case Q8_0 -> dequantizeQ8_0(seg, off, out, outOff, n);
            case Q4_0 -> dequantizeQ4_0(seg, off, out, outOff, n);
            case Q4_K -> dequantizeQ4_K(seg, off, out, outOff, n);
            case Q5_K -> dequantizeQ5_K(seg, off, out, outOff, n);
            case Q6_K -> dequantizeQ6_K(seg, off, out, outOff, n);
        }
    }

    /**
     * Encodes {@code n} floats as one row of {@code type} at {@code dst + dstOff}: F32, F16, BF16
     * (round to nearest even), Q8_0 and Q4_0 as ggml's reference quantisers. Runs the scalar code,
     * as ggml does, so that files come out identical everywhere.
     */
    public static void quantize(GgmlType type, float[] src, int srcOff, int n, MemorySegment dst, long dstOff) {
        QuantScalar.quantize(type, src, srcOff, n, dst, dstOff);
    }

    // ---- F32, F16, BF16: one value per element, L at a time, then the scalar twin for the tail.

    /**
     * binary16 → float32 exactly: the exponent and mantissa bits shifted into float position and
     * scaled by 2^112 (re-biasing the exponent, and turning half subnormals into the right normal
     * floats); infinities and NaNs get the all-ones exponent, NaNs keep their payload and come out
     * quiet (as {@link Float#float16ToFloat} and the x86 conversion instruction do); then the sign.
     */
    private static FloatVector halfToFloat(ShortVector h) {
        IntVector bits = (IntVector) h.castShape(I, 0);
        IntVector magnitude = bits.and(0x7fff);
        IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
        IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> infinite = magnitude.compare(VectorOperators.EQ, 0x7c00);
        VectorMask<Integer> nan = magnitude.compare(VectorOperators.GT, 0x7c00);
        IntVector value = finite.blend(0x7f800000, infinite).blend(shifted.or(0x7fc00000), nan);
        return value.or(bits.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /** bfloat16 → float32: the 16 bits are the top half of the float. */
    private static FloatVector bf16ToFloat(ShortVector h) {
        return ((IntVector) h.castShape(I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    // Four rows at a time (see dotRows): 2·L values of a row per step, then each row's tail of fewer
    // than 2·L values through the scalar twin, added to its sum.

    private static void dot4F32(MemorySegment seg, long first, long stride, int count, float[] x, int xOff, int n, float[] out, int outAt) {
        FloatVector row0 = FloatVector.zero(F), row1 = row0, row2 = row0, row3 = row0;
        for (int r = 0; r < count; r++) {
            long off = first + r * stride;
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            int i = 0;
            for (; i + 2 * L <= n; i += 2 * L) {
                acc0 = FloatVector.fromMemorySegment(F, seg, off + 4L * i, LE).fma(FloatVector.fromArray(F, x, xOff + i), acc0);
                acc1 = FloatVector.fromMemorySegment(F, seg, off + 4L * (i + L), LE).fma(FloatVector.fromArray(F, x, xOff + i + L), acc1);
            }
            FloatVector acc = acc0.add(acc1);
            if (r == 0) row0 = acc; else if (r == 1) row1 = acc; else if (r == 2) row2 = acc; else row3 = acc;
        }
        sum4(row0, row1, row2, row3, out, outAt, count);
        addTails(GgmlType.F32, seg, first, stride, count, x, xOff, n, out, outAt);
    }

    private static void dot4F16(MemorySegment seg, long first, long stride, int count, float[] x, int xOff, int n, float[] out, int outAt) {
        FloatVector row0 = FloatVector.zero(F), row1 = row0, row2 = row0, row3 = row0;
        for (int r = 0; r < count; r++) {
            long off = first + r * stride;
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            int i = 0;
            for (; i + 2 * L <= n; i += 2 * L) {
                acc0 = halfToFloat(ShortVector.fromMemorySegment(S, seg, off + 2L * i, LE)).fma(FloatVector.fromArray(F, x, xOff + i), acc0);
                acc1 = halfToFloat(ShortVector.fromMemorySegment(S, seg, off + 2L * (i + L), LE)).fma(FloatVector.fromArray(F, x, xOff + i + L), acc1);
            }
            FloatVector acc = acc0.add(acc1);
            if (r == 0) row0 = acc; else if (r == 1) row1 = acc; else if (r == 2) row2 = acc; else row3 = acc;
        }
        sum4(row0, row1, row2, row3, out, outAt, count);
        addTails(GgmlType.F16, seg, first, stride, count, x, xOff, n, out, outAt);
    }

    private static void dot4BF16(MemorySegment seg, long first, long stride, int count, float[] x, int xOff, int n, float[] out, int outAt) {
        FloatVector row0 = FloatVector.zero(F), row1 = row0, row2 = row0, row3 = row0;
        for (int r = 0; r < count; r++) {
            long off = first + r * stride;
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            int i = 0;
            for (; i + 2 * L <= n; i += 2 * L) {
                acc0 = bf16ToFloat(ShortVector.fromMemorySegment(S, seg, off + 2L * i, LE)).fma(FloatVector.fromArray(F, x, xOff + i), acc0);
                acc1 = bf16ToFloat(ShortVector.fromMemorySegment(S, seg, off + 2L * (i + L), LE)).fma(FloatVector.fromArray(F, x, xOff + i + L), acc1);
            }
            FloatVector acc = acc0.add(acc1);
            if (r == 0) row0 = acc; else if (r == 1) row1 = acc; else if (r == 2) row2 = acc; else row3 = acc;
        }
        sum4(row0, row1, row2, row3, out, outAt, count);
        addTails(GgmlType.BF16, seg, first, stride, count, x, xOff, n, out, outAt);
    }

    /** Adds the values past the last whole 2·L of each of the {@code count} rows, summed by the scalar twin, to the row's result. */
    private static void addTails(GgmlType type, MemorySegment seg, long first, long stride, int count, float[] x, int xOff, int n, float[] out, int outAt) {
        int from = n / (2 * L) * (2 * L);
        if (from == n) return;
        long skip = type.rowBytes(from);
        for (int r = 0; r < count; r++) out[outAt + r] += QuantScalar.dot(type, seg, first + r * stride + skip, x, xOff + from, n - from);
    }

    private static void dequantizeF32(MemorySegment seg, long off, float[] out, int outOff, int n) {
        int i = 0;
        for (; i + L <= n; i += L) FloatVector.fromMemorySegment(F, seg, off + 4L * i, LE).intoArray(out, outOff + i);
        QuantScalar.dequantize(GgmlType.F32, seg, off + 4L * i, out, outOff + i, n - i);
    }

    private static void dequantizeF16(MemorySegment seg, long off, float[] out, int outOff, int n) {
        int i = 0;
        for (; i + L <= n; i += L) halfToFloat(ShortVector.fromMemorySegment(S, seg, off + 2L * i, LE)).intoArray(out, outOff + i);
        QuantScalar.dequantize(GgmlType.F16, seg, off + 2L * i, out, outOff + i, n - i);
    }

    private static void dequantizeBF16(MemorySegment seg, long off, float[] out, int outOff, int n) {
        int i = 0;
        for (; i + L <= n; i += L) bf16ToFloat(ShortVector.fromMemorySegment(S, seg, off + 2L * i, LE)).intoArray(out, outOff + i);
        QuantScalar.dequantize(GgmlType.BF16, seg, off + 2L * i, out, outOff + i, n - i);
    }

    // ---- block types. Each loads L quant bytes at a time (B) and widens them to L floats. The dot
    // products widen packed bytes to ints before taking bits apart: x86 has no byte shifts, so a
    // shift of byte lanes costs several instructions, of int lanes one. The loops call no helpers
    // of their own: C2 inlines only so deep (MaxInlineLevel), and a Vector API call that lands past
    // that depth falls back to its plain-Java path, a hundred times slower.

    private static void dot4Q8_0(MemorySegment seg, long first, long stride, int count, float[] x, int xOff, int n, float[] out, int outAt) {
        FloatVector row0 = FloatVector.zero(F), row1 = row0, row2 = row0, row3 = row0;
        for (int r = 0; r < count; r++) {
            long off = first + r * stride;
            // even blocks into acc0, odd ones into acc1: two chains of dependent FMAs instead of one
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
            int blocks = n / 32, b = 0;
            for (; b + 2 <= blocks; b += 2) {
                long at = off + 34L * b;
                int xi = xOff + 32 * b;
                float d0 = QuantScalar.half(seg, at), d1 = QuantScalar.half(seg, at + 34);
                FloatVector sum0 = ((FloatVector) ByteVector.fromMemorySegment(B, seg, at + 2, LE).castShape(F, 0)).mul(FloatVector.fromArray(F, x, xi));
                FloatVector sum1 = ((FloatVector) ByteVector.fromMemorySegment(B, seg, at + 36, LE).castShape(F, 0)).mul(FloatVector.fromArray(F, x, xi + 32));
                for (int k = L; k < 32; k += L) {
                    sum0 = ((FloatVector) ByteVector.fromMemorySegment(B, seg, at + 2 + k, LE).castShape(F, 0)).fma(FloatVector.fromArray(F, x, xi + k), sum0);
                    sum1 = ((FloatVector) ByteVector.fromMemorySegment(B, seg, at + 36 + k, LE).castShape(F, 0)).fma(FloatVector.fromArray(F, x, xi + 32 + k), sum1);
                }
                acc0 = sum0.fma(FloatVector.broadcast(F, d0), acc0);
                acc1 = sum1.fma(FloatVector.broadcast(F, d1), acc1);
            }
            if (b < blocks) { // an odd last block
                long at = off + 34L * b;
                int xi = xOff + 32 * b;
                FloatVector sum0 = ((FloatVector) ByteVector.fromMemorySegment(B, seg, at + 2, LE).castShape(F, 0)).mul(FloatVector.fromArray(F, x, xi));
                for (int k = L; k < 32; k += L)
                    sum0 = ((FloatVector) ByteVector.fromMemorySegment(B, seg, at + 2 + k, LE).castShape(F, 0)).fma(FloatVector.fromArray(F, x, xi + k), sum0);
                acc0 = sum0.fma(FloatVector.broadcast(F, QuantScalar.half(seg, at)), acc0);
            }
            FloatVector acc = acc0.add(acc1);
            if (r == 0) row0 = acc; else if (r == 1) row1 = acc; else if (r == 2) row2 = acc; else row3 = acc;
        }
        sum4(row0, row1, row2, row3, out, outAt, count);
    }

    private static void dequantizeQ8_0(MemorySegment seg, long off, float[] out, int outOff, int n) {
        for (int b = 0; b < n / 32; b++) {
            long at = off + 34L * b;
            float d = QuantScalar.half(seg, at);
            for (int k = 0; k < 32; k += L) {
                FloatVector q = (FloatVector) ByteVector.fromMemorySegment(B, seg, at + 2 + k, LE).castShape(F, 0);
                q.mul(d).intoArray(out, outOff + 32 * b + k);
            }
        }
    }

    /**
     * A nibble's value as float bits in lane q, looked up by a lane permutation (see {@link #dot4Q4_0}):
     * q − 8 for Q4_0, q for Q4_K. Sixteen lanes; with eight the first eight, unused.
     */
    private static final IntVector Q4_0_VALUES = floatBits(-8), NIBBLE_VALUES = floatBits(0);

    private static IntVector floatBits(int offset) {
        return IntVector.fromArray(I, IntStream.range(0, 16).map(q -> Float.floatToRawIntBits(q + offset)).toArray(), 0);
    }

    private static void dot4Q4_0(MemorySegment seg, long first, long stride, int count, float[] x, int xOff, int n, float[] out, int outAt) {
        FloatVector row0 = FloatVector.zero(F), row1 = row0, row2 = row0, row3 = row0;
        for (int r = 0; r < count; r++) {
            long off = first + r * stride;
            // even blocks into acc0, odd ones into acc1: two chains of dependent FMAs instead of one.
            // The quant bytes are zero-extended into int lanes, so the high nibble is one logical shift
            // (x86 has no byte shift) with no mask after it. With 16 lanes a nibble becomes its float
            // q − 8 by one lane permutation of Q4_0_VALUES (vpermd), whose index wraps at 16, so the low
            // nibble needs no mask either: 17.3 against 16.0 Gvalues/s per core in cache (Zen 4), the same
            // bits. Eight lanes cannot hold the table, and AVX2 has no two-vector permutation (the
            // Vector API's fallback ran at 6), so there the nibbles are converted.
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
            int blocks = n / 32, b = 0;
            for (; b + 2 <= blocks; b += 2) {
                long at = off + 18L * b;
                int xi = xOff + 32 * b;
                float d0 = QuantScalar.half(seg, at), d1 = QuantScalar.half(seg, at + 18);
                FloatVector sum0 = FloatVector.zero(F), sum1 = sum0;
                for (int k = 0; k < 16; k += L) {
                    IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, seg, at + 2 + k, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, seg, at + 20 + k, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector h0 = q0.lanewise(VectorOperators.LSHR, 4), h1 = q1.lanewise(VectorOperators.LSHR, 4);
                    FloatVector low0 = L == 16 ? q0.selectFrom(Q4_0_VALUES).reinterpretAsFloats() : (FloatVector) q0.and(15).sub(8).castShape(F, 0);
                    FloatVector low1 = L == 16 ? q1.selectFrom(Q4_0_VALUES).reinterpretAsFloats() : (FloatVector) q1.and(15).sub(8).castShape(F, 0);
                    FloatVector high0 = L == 16 ? h0.selectFrom(Q4_0_VALUES).reinterpretAsFloats() : (FloatVector) h0.sub(8).castShape(F, 0);
                    FloatVector high1 = L == 16 ? h1.selectFrom(Q4_0_VALUES).reinterpretAsFloats() : (FloatVector) h1.sub(8).castShape(F, 0);
                    sum0 = low0.fma(FloatVector.fromArray(F, x, xi + k), sum0);
                    sum1 = low1.fma(FloatVector.fromArray(F, x, xi + 32 + k), sum1);
                    sum0 = high0.fma(FloatVector.fromArray(F, x, xi + 16 + k), sum0);
                    sum1 = high1.fma(FloatVector.fromArray(F, x, xi + 48 + k), sum1);
                }
                acc0 = sum0.fma(FloatVector.broadcast(F, d0), acc0);
                acc1 = sum1.fma(FloatVector.broadcast(F, d1), acc1);
            }
            if (b < blocks) { // an odd last block
                long at = off + 18L * b;
                int xi = xOff + 32 * b;
                FloatVector sum0 = FloatVector.zero(F);
                for (int k = 0; k < 16; k += L) {
                    IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, seg, at + 2 + k, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector h0 = q0.lanewise(VectorOperators.LSHR, 4);
                    FloatVector low0 = L == 16 ? q0.selectFrom(Q4_0_VALUES).reinterpretAsFloats() : (FloatVector) q0.and(15).sub(8).castShape(F, 0);
                    FloatVector high0 = L == 16 ? h0.selectFrom(Q4_0_VALUES).reinterpretAsFloats() : (FloatVector) h0.sub(8).castShape(F, 0);
                    sum0 = low0.fma(FloatVector.fromArray(F, x, xi + k), sum0);
                    sum0 = high0.fma(FloatVector.fromArray(F, x, xi + 16 + k), sum0);
                }
                acc0 = sum0.fma(FloatVector.broadcast(F, QuantScalar.half(seg, at)), acc0);
            }
            FloatVector acc = acc0.add(acc1);
            if (r == 0) row0 = acc; else if (r == 1) row1 = acc; else if (r == 2) row2 = acc; else row3 = acc;
        }
        sum4(row0, row1, row2, row3, out, outAt, count);
    }

    private static void dequantizeQ4_0(MemorySegment seg, long off, float[] out, int outOff, int n) {
        for (int b = 0; b < n / 32; b++) {
            long at = off + 18L * b;
            float d = QuantScalar.half(seg, at);
            int o = outOff + 32 * b;
            // with 16 lanes the block's sixteen values d·(q − 8) are made once and each nibble looks its
            // value up, as in dot4Q4_0: the same products as converting each nibble and multiplying
            IntVector values = L == 16 ? Q4_0_VALUES.reinterpretAsFloats().mul(d).reinterpretAsInts() : null;
            for (int k = 0; k < 16; k += L) {
                IntVector q = (IntVector) ByteVector.fromMemorySegment(B, seg, at + 2 + k, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector h = q.lanewise(VectorOperators.LSHR, 4);
                (L == 16 ? q.selectFrom(values).reinterpretAsFloats() : ((FloatVector) q.and(15).sub(8).castShape(F, 0)).mul(d)).intoArray(out, o + k);
                (L == 16 ? h.selectFrom(values).reinterpretAsFloats() : ((FloatVector) h.sub(8).castShape(F, 0)).mul(d)).intoArray(out, o + 16 + k);
            }
        }
    }

    /**
     * Q4_K: x = d·sc·q − dmin·m per sub-block of 32, so Σ x·a = d·sc·Σ q·a − dmin·m·Σ a. The q·a sums
     * are vectors folded in with their scales; the Σ a come from {@link Scratch#subBlockSums}, and the
     * minimum terms gather in a scalar added to lane 0 before the lane sums. One flat loop takes 128
     * values (four sub-blocks) a turn: the loop of four sub-block pairs inside a loop over
     * super-blocks that it replaces was left rolled by C2 (unrolled only with -XX:LoopUnrollLimit=120),
     * and runs at 8.7 against 11.2 Gvalues/s per core in cache with 4096 values a row (the same at
     * 512). The 12 bytes of packed scales are read as a long and an int; the quant bytes are
     * zero-extended into int lanes, so the high nibble is one logical shift, and with 16 lanes a
     * nibble becomes its float by a lane permutation of {@link #NIBBLE_VALUES}, as in {@link #dot4Q4_0}.
     */
    private static void dot4Q4_K(MemorySegment seg, long first, long stride, int count, float[] x, int xOff, int n, float[] sums,
                                 float[] rows) {
        for (int r = 0; r < count; r++) {
            long off = first + r * stride;
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0; // low and high nibbles: two FMA chains
            float minimum = 0;
            for (int g = 0; g < n / 64; g += 2) { // groups g and g+1 of 64 values: sub-blocks 2j..2j+3 of one super-block
                int j = g & 3;
                long at = off + 144L * (g >>> 2), qs = at + 16 + 32 * j;
                float d = QuantScalar.half(seg, at), dmin = QuantScalar.half(seg, at + 2);
                long scales = q4kScales(seg, at), mins = q4kMins(seg, at);
                int xi = xOff + 64 * g;
                // scalar work first: C2 stops inlining small helpers once a method's graph is large
                float s0 = d * byteAt(scales, 2 * j), s1 = d * byteAt(scales, 2 * j + 1);
                float s2 = d * byteAt(scales, 2 * j + 2), s3 = d * byteAt(scales, 2 * j + 3);
                float m = Math.fma(byteAt(mins, 2 * j + 1), sums[2 * g + 1], byteAt(mins, 2 * j) * sums[2 * g]);
                m = Math.fma(byteAt(mins, 2 * j + 2), sums[2 * g + 2], m);
                m = Math.fma(byteAt(mins, 2 * j + 3), sums[2 * g + 3], m);
                minimum = Math.fma(-dmin, m, minimum);
                FloatVector qaLow = FloatVector.zero(F), qaHigh = qaLow, raLow = qaLow, raHigh = qaLow;
                for (int k = 0; k < 32; k += 2 * L) { // two vectors a turn: with 16 lanes, no loop for C2 to keep
                    long qk = qs + k;
                    int xk = xi + k;
                    IntVector q = (IntVector) ByteVector.fromMemorySegment(B, seg, qk, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector p = (IntVector) ByteVector.fromMemorySegment(B, seg, qk + L, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector u = (IntVector) ByteVector.fromMemorySegment(B, seg, qk + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(B, seg, qk + 32 + L, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector qh = q.lanewise(VectorOperators.LSHR, 4), ph = p.lanewise(VectorOperators.LSHR, 4);
                    IntVector uh = u.lanewise(VectorOperators.LSHR, 4), vh = v.lanewise(VectorOperators.LSHR, 4);
                    FloatVector qLow = L == 16 ? q.selectFrom(NIBBLE_VALUES).reinterpretAsFloats() : (FloatVector) q.and(15).castShape(F, 0);
                    FloatVector pLow = L == 16 ? p.selectFrom(NIBBLE_VALUES).reinterpretAsFloats() : (FloatVector) p.and(15).castShape(F, 0);
                    FloatVector qHigh = L == 16 ? qh.selectFrom(NIBBLE_VALUES).reinterpretAsFloats() : (FloatVector) qh.castShape(F, 0);
                    FloatVector pHigh = L == 16 ? ph.selectFrom(NIBBLE_VALUES).reinterpretAsFloats() : (FloatVector) ph.castShape(F, 0);
                    FloatVector uLow = L == 16 ? u.selectFrom(NIBBLE_VALUES).reinterpretAsFloats() : (FloatVector) u.and(15).castShape(F, 0);
                    FloatVector vLow = L == 16 ? v.selectFrom(NIBBLE_VALUES).reinterpretAsFloats() : (FloatVector) v.and(15).castShape(F, 0);
                    FloatVector uHigh = L == 16 ? uh.selectFrom(NIBBLE_VALUES).reinterpretAsFloats() : (FloatVector) uh.castShape(F, 0);
                    FloatVector vHigh = L == 16 ? vh.selectFrom(NIBBLE_VALUES).reinterpretAsFloats() : (FloatVector) vh.castShape(F, 0);
                    qaLow = qLow.fma(FloatVector.fromArray(F, x, xk), qaLow);
                    qaHigh = qHigh.fma(FloatVector.fromArray(F, x, xk + 32), qaHigh);
                    raLow = uLow.fma(FloatVector.fromArray(F, x, xk + 64), raLow);
                    raHigh = uHigh.fma(FloatVector.fromArray(F, x, xk + 96), raHigh);
                    qaLow = pLow.fma(FloatVector.fromArray(F, x, xk + L), qaLow);
                    qaHigh = pHigh.fma(FloatVector.fromArray(F, x, xk + 32 + L), qaHigh);
                    raLow = vLow.fma(FloatVector.fromArray(F, x, xk + 64 + L), raLow);
                    raHigh = vHigh.fma(FloatVector.fromArray(F, x, xk + 96 + L), raHigh);
                }
                acc0 = qaLow.fma(FloatVector.broadcast(F, s0), acc0);
                acc1 = qaHigh.fma(FloatVector.broadcast(F, s1), acc1);
                acc0 = raLow.fma(FloatVector.broadcast(F, s2), acc0);
                acc1 = raHigh.fma(FloatVector.broadcast(F, s3), acc1);
            }
            FloatVector acc = acc0.add(acc1).add(FloatVector.zero(F).withLane(0, minimum));
            acc.intoArray(rows, r * L);
        }
    }

    /**
     * The eight 6-bit scales of the Q4_K super-block at {@code at}, one per byte ({@link QuantScalar#q4kScale}),
     * unpacked from the 12 scale bytes (three little-endian words w0, w1, w2) all at once: scales 0-3
     * are the low 6 bits of w0's bytes, scales 4-7 the low nibbles of w2's bytes with the top 2 bits
     * of w0's bytes above them.
     */
    private static long q4kScales(MemorySegment seg, long at) {
        int w0 = seg.get(INT_LE, at + 4), w2 = seg.get(INT_LE, at + 12);
        int high = (w2 & 0x0f0f0f0f) | (((w0 >>> 6) & 0x03030303) << 4);
        return (w0 & 0x3f3f3f3fL) | ((long) high << 32);
    }

    /** The eight 6-bit mins ({@link QuantScalar#q4kMin}): w1's bytes, and w2's high nibbles with w1's top 2 bits. */
    private static long q4kMins(MemorySegment seg, long at) {
        int w1 = seg.get(INT_LE, at + 8), w2 = seg.get(INT_LE, at + 12);
        int high = ((w2 >>> 4) & 0x0f0f0f0f) | (((w1 >>> 6) & 0x03030303) << 4);
        return (w1 & 0x3f3f3f3fL) | ((long) high << 32);
    }

    private static int byteAt(long bytes, int k) {
        return (int) (bytes >>> (8 * k)) & 0xff;
    }

    private static void dequantizeQ4_K(MemorySegment seg, long off, float[] out, int outOff, int n) {
        for (int b = 0; b < n / 256; b++) {
            long at = off + 144L * b, qs = at + 16;
            float d = QuantScalar.half(seg, at), dmin = QuantScalar.half(seg, at + 2);
            long scales = q4kScales(seg, at), mins = q4kMins(seg, at);
            int o = outOff + 256 * b;
            for (int j = 0; j < 4; j++) {
                float d1 = d * byteAt(scales, 2 * j), m1 = dmin * byteAt(mins, 2 * j);
                float d2 = d * byteAt(scales, 2 * j + 1), m2 = dmin * byteAt(mins, 2 * j + 1);
                for (int k = 0; k < 32; k += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, seg, qs + 32 * j + k, LE);
                    ((FloatVector) q.and((byte) 15).castShape(F, 0)).mul(d1).sub(m1).intoArray(out, o + 64 * j + k);
                    ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).castShape(F, 0)).mul(d2).sub(m2).intoArray(out, o + 64 * j + 32 + k);
                }
            }
        }
    }

    private static void dot4Q6_K(MemorySegment seg, long first, long stride, int count, float[] x, int xOff, int n, float[] rows) {
        for (int r = 0; r < count; r++) {
            long off = first + r * stride;
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0; // values l, l+64 and l+32, l+96: two FMA chains
            for (int t = 0; t < n / 128; t++) { // halves of super-blocks: one flat loop, which C2 unrolls
                long at = off + 210L * (t >>> 1);
                int h = t & 1;
                float d = QuantScalar.half(seg, at + 208);
                long ql = at + 64 * h, qh = at + 128 + 32 * h, sc = at + 192 + 8 * h;
                int xi = xOff + 128 * t;
                for (int l = 0; l < 32; l += L) {
                    IntVector low = (IntVector) ByteVector.fromMemorySegment(B, seg, ql + l, LE).castShape(I, 0);
                    IntVector high = (IntVector) ByteVector.fromMemorySegment(B, seg, ql + 32 + l, LE).castShape(I, 0);
                    IntVector hb = (IntVector) ByteVector.fromMemorySegment(B, seg, qh + l, LE).castShape(I, 0);
                    // values l, l+32, l+64, l+96: a nibble of ql, and bits 0-1, 2-3, 4-5, 6-7 of qh moved to bits 4-5
                    // (the bytes are sign-extended: every mask keeps only bits below the sign's copies)
                    IntVector q0 = low.and(15).or(hb.lanewise(VectorOperators.LSHL, 4).and(0x30)).sub(32);
                    IntVector q1 = high.and(15).or(hb.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32);
                    IntVector q2 = low.lanewise(VectorOperators.ASHR, 4).and(15).or(hb.and(0x30)).sub(32);
                    IntVector q3 = high.lanewise(VectorOperators.ASHR, 4).and(15).or(hb.lanewise(VectorOperators.ASHR, 2).and(0x30)).sub(32);
                    long is = sc + l / 16;
                    acc0 = ((FloatVector) q0.castShape(F, 0)).mul(FloatVector.fromArray(F, x, xi + l))
                            .fma(FloatVector.broadcast(F, d * seg.get(ValueLayout.JAVA_BYTE, is)), acc0);
                    acc1 = ((FloatVector) q1.castShape(F, 0)).mul(FloatVector.fromArray(F, x, xi + 32 + l))
                            .fma(FloatVector.broadcast(F, d * seg.get(ValueLayout.JAVA_BYTE, is + 2)), acc1);
                    acc0 = ((FloatVector) q2.castShape(F, 0)).mul(FloatVector.fromArray(F, x, xi + 64 + l))
                            .fma(FloatVector.broadcast(F, d * seg.get(ValueLayout.JAVA_BYTE, is + 4)), acc0);
                    acc1 = ((FloatVector) q3.castShape(F, 0)).mul(FloatVector.fromArray(F, x, xi + 96 + l))
                            .fma(FloatVector.broadcast(F, d * seg.get(ValueLayout.JAVA_BYTE, is + 6)), acc1);
                }
            }
            FloatVector acc = acc0.add(acc1);
            acc.intoArray(rows, r * L);
        }
    }

    private static void dequantizeQ6_K(MemorySegment seg, long off, float[] out, int outOff, int n) {
        for (int b = 0; b < n / 256; b++) {
            long at = off + 210L * b;
            float d = QuantScalar.half(seg, at + 208);
            for (int h = 0; h < 2; h++) {
                long ql = at + 64 * h, qh = at + 128 + 32 * h, sc = at + 192 + 8 * h;
                int o = outOff + 256 * b + 128 * h;
                for (int l = 0; l < 32; l += L) {
                    ByteVector low = ByteVector.fromMemorySegment(B, seg, ql + l, LE);
                    ByteVector high = ByteVector.fromMemorySegment(B, seg, ql + 32 + l, LE);
                    ByteVector hb = ByteVector.fromMemorySegment(B, seg, qh + l, LE);
                    // values l, l+32, l+64, l+96: a nibble of ql, and bits 0-1, 2-3, 4-5, 6-7 of qh moved to bits 4-5
                    ByteVector q0 = low.and((byte) 15).or(hb.lanewise(VectorOperators.LSHL, 4).and((byte) 0x30)).sub((byte) 32);
                    ByteVector q1 = high.and((byte) 15).or(hb.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30)).sub((byte) 32);
                    ByteVector q2 = low.lanewise(VectorOperators.LSHR, 4).or(hb.and((byte) 0x30)).sub((byte) 32);
                    ByteVector q3 = high.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30)).sub((byte) 32);
                    long is = sc + l / 16;
                    ((FloatVector) q0.castShape(F, 0)).mul(d * seg.get(ValueLayout.JAVA_BYTE, is)).intoArray(out, o + l);
                    ((FloatVector) q1.castShape(F, 0)).mul(d * seg.get(ValueLayout.JAVA_BYTE, is + 2)).intoArray(out, o + 32 + l);
                    ((FloatVector) q2.castShape(F, 0)).mul(d * seg.get(ValueLayout.JAVA_BYTE, is + 4)).intoArray(out, o + 64 + l);
                    ((FloatVector) q3.castShape(F, 0)).mul(d * seg.get(ValueLayout.JAVA_BYTE, is + 6)).intoArray(out, o + 96 + l);
                }
            }
        }
    }

    // ---- Q5_K (read only: llama.cpp's Q4_K_M puts attn_output of 8-expert models in Q5_K, Q5_K_M most tensors)

    /**
     * Q5_K on the {@code count} (1..4) rows at {@code first + r·stride}: as Q4_K ({@link #dot4Q4_K}),
     * with q = nibble + 16·(its bit of qh). Value l of the 64 values of pair j takes bit 2j (low
     * nibble, first sub-block) or 2j+1 (high nibble) of qh[l]; the bytes are zero-extended into int
     * lanes, so the high nibble is one shift and each bit of qh a shift and a mask.
     */
    private static void dot4Q5_K(MemorySegment seg, long first, long stride, int count, float[] x, int xOff, int n, float[] sums,
                                 float[] rows) {
        for (int r = 0; r < count; r++) {
            long off = first + r * stride;
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0; // low and high nibbles: two FMA chains
            float minimum = 0;
            for (int b = 0; b < n / 256; b++) {
                long at = off + 176L * b, qh = at + 16, qs = at + 48;
                float d = QuantScalar.half(seg, at), dmin = QuantScalar.half(seg, at + 2);
                long scales = q4kScales(seg, at), mins = q4kMins(seg, at);
                int xi = xOff + 256 * b;
                float m = 0;
                for (int j = 0; j < 4; j++) {
                    FloatVector qaLow = FloatVector.zero(F), qaHigh = qaLow;
                    for (int k = 0; k < 32; k += L) {
                        IntVector q = (IntVector) ByteVector.fromMemorySegment(B, seg, qs + 32 * j + k, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                        IntVector h = ((IntVector) ByteVector.fromMemorySegment(B, seg, qh + k, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0))
                                .lanewise(VectorOperators.LSHR, 2 * j);
                        IntVector q5Low = q.and(15).or(h.and(1).lanewise(VectorOperators.LSHL, 4));
                        IntVector q5High = q.lanewise(VectorOperators.LSHR, 4).or(h.and(2).lanewise(VectorOperators.LSHL, 3));
                        qaLow = ((FloatVector) q5Low.castShape(F, 0)).fma(FloatVector.fromArray(F, x, xi + 64 * j + k), qaLow);
                        qaHigh = ((FloatVector) q5High.castShape(F, 0)).fma(FloatVector.fromArray(F, x, xi + 64 * j + 32 + k), qaHigh);
                    }
                    acc0 = qaLow.fma(FloatVector.broadcast(F, d * byteAt(scales, 2 * j)), acc0);
                    acc1 = qaHigh.fma(FloatVector.broadcast(F, d * byteAt(scales, 2 * j + 1)), acc1);
                    m = Math.fma(byteAt(mins, 2 * j), sums[8 * b + 2 * j], m);
                    m = Math.fma(byteAt(mins, 2 * j + 1), sums[8 * b + 2 * j + 1], m);
                }
                minimum = Math.fma(-dmin, m, minimum);
            }
            FloatVector acc = acc0.add(acc1).add(FloatVector.zero(F).withLane(0, minimum));
            acc.intoArray(rows, r * L);
        }
    }

    private static void dequantizeQ5_K(MemorySegment seg, long off, float[] out, int outOff, int n) {
        for (int b = 0; b < n / 256; b++) {
            long at = off + 176L * b, qh = at + 16, qs = at + 48;
            float d = QuantScalar.half(seg, at), dmin = QuantScalar.half(seg, at + 2);
            int o = outOff + 256 * b;
            for (int j = 0; j < 4; j++) {
                float d1 = d * QuantScalar.q4kScale(seg, at + 4, 2 * j), m1 = dmin * QuantScalar.q4kMin(seg, at + 4, 2 * j);
                float d2 = d * QuantScalar.q4kScale(seg, at + 4, 2 * j + 1), m2 = dmin * QuantScalar.q4kMin(seg, at + 4, 2 * j + 1);
                for (int k = 0; k < 32; k += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, seg, qs + 32 * j + k, LE);
                    ByteVector h = ByteVector.fromMemorySegment(B, seg, qh + k, LE).lanewise(VectorOperators.LSHR, 2 * j);
                    ByteVector q5Low = q.and((byte) 15).or(h.and((byte) 1).lanewise(VectorOperators.LSHL, 4));
                    ByteVector q5High = q.lanewise(VectorOperators.LSHR, 4).or(h.and((byte) 2).lanewise(VectorOperators.LSHL, 3));
                    ((FloatVector) q5Low.castShape(F, 0)).mul(d1).sub(m1).intoArray(out, o + 64 * j + k);
                    ((FloatVector) q5High.castShape(F, 0)).mul(d2).sub(m2).intoArray(out, o + 64 * j + 32 + k);
                }
            }
        }
    }
}
