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

/**
 * Rows of any {@link GgmlType} held in memory segments (mapped files, or heap segments backed by a
 * {@code byte[]}): dot products with float vectors, dequantisation and quantisation. Offsets are in
 * bytes, counts in values; a row holds a whole number of blocks. {@link QuantScalar} is the plain
 * twin, with the block layouts written out.
 *
 * <p>The kernels use float vectors of {@code L} = 16 lanes (AVX-512) or 8 (otherwise) and load the
 * quants as {@code L} bytes at a time, widened to floats. Dot products run four weight rows against
 * one vector ({@link #dotRows}): each row keeps one vector of partial sums per sub-block and folds it
 * into its accumulator with the sub-block's scale, so the scales are applied once per {@code L}
 * values rather than once per value. Dequantisation computes every value with the same float
 * operations as the twin, so it matches it bit for bit. Lanes are summed by a fixed tree of lane
 * operations ({@link #sum4}), not {@code reduceLanes(ADD)}, whose order differs between the
 * interpreter and compiled code: a dot product keeps its bits while the JIT warms up.
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
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);

    /** Σ row[i]·x[xOff + i] over the {@code n} values of the row at {@code seg + off}; the same bits as that row in {@link #dotRows}. */
    public static float dot(GgmlType type, MemorySegment seg, long off, float[] x, int xOff, int n) {
        float[] result = new float[1];
        dotRows(type, seg, off, 0, 1, x, xOff, n, result, 0);
        return result[0];
    }

    /**
     * A matrix-vector product: {@code out[outOff + r] = Σ_i row_r[i]·x[xOff + i]} for the {@code rows}
     * rows of {@code n} values at {@code seg + off + r·stride}. Runs four rows at a time: each load of
     * {@code x} serves four rows, each row keeps its own accumulator, and one tree of lane additions
     * ({@link #sum4}) sums the four. A last group of one to three rows runs through the same kernel
     * with its first row repeated, so a row's bits depend only on the row and {@code x}, never on
     * the rows computed with it (nor on how a caller splits the rows between threads).
     */
    public static void dotRows(GgmlType type, MemorySegment seg, long off, long stride, int rows, float[] x, int xOff, int n,
                               float[] out, int outOff) {
        type.rowBytes(n);
        for (int r = 0; r < rows; r += 4) {
            int count = Math.min(4, rows - r);
            long o0 = off + r * stride;
            long o1 = count > 1 ? o0 + stride : o0, o2 = count > 2 ? o0 + 2 * stride : o0, o3 = count > 3 ? o0 + 3 * stride : o0;
            int at = outOff + r;
            switch (type) {
                case F32 -> dot4F32(seg, o0, o1, o2, o3, x, xOff, n, out, at, count);
                case F16 -> dot4F16(seg, o0, o1, o2, o3, x, xOff, n, out, at, count);
                case BF16 -> dot4BF16(seg, o0, o1, o2, o3, x, xOff, n, out, at, count);
                case Q8_0 -> dot4Q8_0(seg, o0, o1, o2, o3, x, xOff, n, out, at, count);
                case Q4_0 -> dot4Q4_0(seg, o0, o1, o2, o3, x, xOff, n, out, at, count);
                case Q4_K -> dot4Q4_K(seg, o0, o1, o2, o3, x, xOff, n, out, at, count);
                case Q6_K -> dot4Q6_K(seg, o0, o1, o2, o3, x, xOff, n, out, at, count);
            }
        }
    }

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

    // Four rows at a time (see dotRows): L values of each row per step, then each row's tail of
    // fewer than L values through the scalar twin, added to its vector sum.

    private static void dot4F32(MemorySegment seg, long o0, long o1, long o2, long o3, float[] x, int xOff, int n, float[] out, int at, int count) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + i);
            acc0 = FloatVector.fromMemorySegment(F, seg, o0 + 4L * i, LE).fma(xv, acc0);
            acc1 = FloatVector.fromMemorySegment(F, seg, o1 + 4L * i, LE).fma(xv, acc1);
            acc2 = FloatVector.fromMemorySegment(F, seg, o2 + 4L * i, LE).fma(xv, acc2);
            acc3 = FloatVector.fromMemorySegment(F, seg, o3 + 4L * i, LE).fma(xv, acc3);
        }
        sum4(acc0, acc1, acc2, acc3, out, at, count);
        addTails(GgmlType.F32, seg, o0, o1, o2, o3, x, xOff, i, n, out, at, count);
    }

    private static void dot4F16(MemorySegment seg, long o0, long o1, long o2, long o3, float[] x, int xOff, int n, float[] out, int at, int count) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + i);
            acc0 = halfToFloat(ShortVector.fromMemorySegment(S, seg, o0 + 2L * i, LE)).fma(xv, acc0);
            acc1 = halfToFloat(ShortVector.fromMemorySegment(S, seg, o1 + 2L * i, LE)).fma(xv, acc1);
            acc2 = halfToFloat(ShortVector.fromMemorySegment(S, seg, o2 + 2L * i, LE)).fma(xv, acc2);
            acc3 = halfToFloat(ShortVector.fromMemorySegment(S, seg, o3 + 2L * i, LE)).fma(xv, acc3);
        }
        sum4(acc0, acc1, acc2, acc3, out, at, count);
        addTails(GgmlType.F16, seg, o0, o1, o2, o3, x, xOff, i, n, out, at, count);
    }

    private static void dot4BF16(MemorySegment seg, long o0, long o1, long o2, long o3, float[] x, int xOff, int n, float[] out, int at, int count) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + i);
            acc0 = bf16ToFloat(ShortVector.fromMemorySegment(S, seg, o0 + 2L * i, LE)).fma(xv, acc0);
            acc1 = bf16ToFloat(ShortVector.fromMemorySegment(S, seg, o1 + 2L * i, LE)).fma(xv, acc1);
            acc2 = bf16ToFloat(ShortVector.fromMemorySegment(S, seg, o2 + 2L * i, LE)).fma(xv, acc2);
            acc3 = bf16ToFloat(ShortVector.fromMemorySegment(S, seg, o3 + 2L * i, LE)).fma(xv, acc3);
        }
        sum4(acc0, acc1, acc2, acc3, out, at, count);
        addTails(GgmlType.BF16, seg, o0, o1, o2, o3, x, xOff, i, n, out, at, count);
    }

    /** Adds values {@code [from, n)} of each of the {@code count} rows, summed by the scalar twin, to the row's result. */
    private static void addTails(GgmlType type, MemorySegment seg, long o0, long o1, long o2, long o3, float[] x, int xOff, int from, int n,
                                 float[] out, int at, int count) {
        if (from == n) return;
        long skip = type.rowBytes(from);
        out[at] += QuantScalar.dot(type, seg, o0 + skip, x, xOff + from, n - from);
        if (count > 1) out[at + 1] += QuantScalar.dot(type, seg, o1 + skip, x, xOff + from, n - from);
        if (count > 2) out[at + 2] += QuantScalar.dot(type, seg, o2 + skip, x, xOff + from, n - from);
        if (count > 3) out[at + 3] += QuantScalar.dot(type, seg, o3 + skip, x, xOff + from, n - from);
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

    // ---- block types. Each loads L quant bytes at a time (B) and widens them to L floats. The
    // loops call no helpers of their own: C2 inlines only so deep (MaxInlineLevel), and a Vector
    // API call that lands past that depth falls back to its plain-Java path, a hundred times slower.

    private static void dot4Q8_0(MemorySegment seg, long o0, long o1, long o2, long o3, float[] x, int xOff, int n, float[] out, int at, int count) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int b = 0; b < n / 32; b++) {
            long a0 = o0 + 34L * b, a1 = o1 + 34L * b, a2 = o2 + 34L * b, a3 = o3 + 34L * b;
            int xi = xOff + 32 * b;
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            for (int k = 0; k < 32; k += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xi + k);
                s0 = ((FloatVector) ByteVector.fromMemorySegment(B, seg, a0 + 2 + k, LE).castShape(F, 0)).fma(xv, s0);
                s1 = ((FloatVector) ByteVector.fromMemorySegment(B, seg, a1 + 2 + k, LE).castShape(F, 0)).fma(xv, s1);
                s2 = ((FloatVector) ByteVector.fromMemorySegment(B, seg, a2 + 2 + k, LE).castShape(F, 0)).fma(xv, s2);
                s3 = ((FloatVector) ByteVector.fromMemorySegment(B, seg, a3 + 2 + k, LE).castShape(F, 0)).fma(xv, s3);
            }
            acc0 = s0.fma(FloatVector.broadcast(F, QuantScalar.half(seg, a0)), acc0);
            acc1 = s1.fma(FloatVector.broadcast(F, QuantScalar.half(seg, a1)), acc1);
            acc2 = s2.fma(FloatVector.broadcast(F, QuantScalar.half(seg, a2)), acc2);
            acc3 = s3.fma(FloatVector.broadcast(F, QuantScalar.half(seg, a3)), acc3);
        }
        sum4(acc0, acc1, acc2, acc3, out, at, count);
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

    private static void dot4Q4_0(MemorySegment seg, long o0, long o1, long o2, long o3, float[] x, int xOff, int n, float[] out, int at, int count) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int b = 0; b < n / 32; b++) {
            long a0 = o0 + 18L * b, a1 = o1 + 18L * b, a2 = o2 + 18L * b, a3 = o3 + 18L * b;
            int xi = xOff + 32 * b;
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            for (int k = 0; k < 16; k += L) {
                FloatVector xLow = FloatVector.fromArray(F, x, xi + k), xHigh = FloatVector.fromArray(F, x, xi + 16 + k);
                ByteVector q0 = ByteVector.fromMemorySegment(B, seg, a0 + 2 + k, LE);
                ByteVector q1 = ByteVector.fromMemorySegment(B, seg, a1 + 2 + k, LE);
                ByteVector q2 = ByteVector.fromMemorySegment(B, seg, a2 + 2 + k, LE);
                ByteVector q3 = ByteVector.fromMemorySegment(B, seg, a3 + 2 + k, LE);
                s0 = ((FloatVector) q0.and((byte) 15).sub((byte) 8).castShape(F, 0)).fma(xLow, s0);
                s1 = ((FloatVector) q1.and((byte) 15).sub((byte) 8).castShape(F, 0)).fma(xLow, s1);
                s2 = ((FloatVector) q2.and((byte) 15).sub((byte) 8).castShape(F, 0)).fma(xLow, s2);
                s3 = ((FloatVector) q3.and((byte) 15).sub((byte) 8).castShape(F, 0)).fma(xLow, s3);
                s0 = ((FloatVector) q0.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).castShape(F, 0)).fma(xHigh, s0);
                s1 = ((FloatVector) q1.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).castShape(F, 0)).fma(xHigh, s1);
                s2 = ((FloatVector) q2.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).castShape(F, 0)).fma(xHigh, s2);
                s3 = ((FloatVector) q3.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).castShape(F, 0)).fma(xHigh, s3);
            }
            acc0 = s0.fma(FloatVector.broadcast(F, QuantScalar.half(seg, a0)), acc0);
            acc1 = s1.fma(FloatVector.broadcast(F, QuantScalar.half(seg, a1)), acc1);
            acc2 = s2.fma(FloatVector.broadcast(F, QuantScalar.half(seg, a2)), acc2);
            acc3 = s3.fma(FloatVector.broadcast(F, QuantScalar.half(seg, a3)), acc3);
        }
        sum4(acc0, acc1, acc2, acc3, out, at, count);
    }

    private static void dequantizeQ4_0(MemorySegment seg, long off, float[] out, int outOff, int n) {
        for (int b = 0; b < n / 32; b++) {
            long at = off + 18L * b;
            float d = QuantScalar.half(seg, at);
            int o = outOff + 32 * b;
            for (int k = 0; k < 16; k += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, seg, at + 2 + k, LE);
                ((FloatVector) q.and((byte) 15).sub((byte) 8).castShape(F, 0)).mul(d).intoArray(out, o + k);
                ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).castShape(F, 0)).mul(d).intoArray(out, o + 16 + k);
            }
        }
    }

    /**
     * Q4_K: x = d·sc·q − dmin·m per sub-block of 32, so Σ x·a = d·sc·Σ q·a − dmin·m·Σ a; both sums
     * are kept as vectors (Σ a once for the four rows) and folded in with their scalar factors. The
     * 12 bytes of packed scales of each row are read once per super-block as a long and an int.
     */
    private static void dot4Q4_K(MemorySegment seg, long o0, long o1, long o2, long o3, float[] x, int xOff, int n, float[] out, int at, int count) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int b = 0; b < n / 256; b++) {
            long a0 = o0 + 144L * b, a1 = o1 + 144L * b, a2 = o2 + 144L * b, a3 = o3 + 144L * b;
            float d0 = QuantScalar.half(seg, a0), d1 = QuantScalar.half(seg, a1), d2 = QuantScalar.half(seg, a2), d3 = QuantScalar.half(seg, a3);
            float m0 = -QuantScalar.half(seg, a0 + 2), m1 = -QuantScalar.half(seg, a1 + 2); // −dmin
            float m2 = -QuantScalar.half(seg, a2 + 2), m3 = -QuantScalar.half(seg, a3 + 2);
            long sl0 = seg.get(LONG_LE, a0 + 4), sl1 = seg.get(LONG_LE, a1 + 4), sl2 = seg.get(LONG_LE, a2 + 4), sl3 = seg.get(LONG_LE, a3 + 4);
            int sh0 = seg.get(INT_LE, a0 + 12), sh1 = seg.get(INT_LE, a1 + 12), sh2 = seg.get(INT_LE, a2 + 12), sh3 = seg.get(INT_LE, a3 + 12);
            int xi = xOff + 256 * b;
            for (int j = 0; j < 4; j++) {
                FloatVector aLow = FloatVector.zero(F), aHigh = aLow;
                FloatVector low0 = aLow, low1 = aLow, low2 = aLow, low3 = aLow, high0 = aLow, high1 = aLow, high2 = aLow, high3 = aLow;
                long qs = 16 + 32 * j;
                for (int k = 0; k < 32; k += L) {
                    FloatVector x0 = FloatVector.fromArray(F, x, xi + 64 * j + k);
                    FloatVector x1 = FloatVector.fromArray(F, x, xi + 64 * j + 32 + k);
                    aLow = aLow.add(x0);
                    aHigh = aHigh.add(x1);
                    ByteVector q0 = ByteVector.fromMemorySegment(B, seg, a0 + qs + k, LE);
                    ByteVector q1 = ByteVector.fromMemorySegment(B, seg, a1 + qs + k, LE);
                    ByteVector q2 = ByteVector.fromMemorySegment(B, seg, a2 + qs + k, LE);
                    ByteVector q3 = ByteVector.fromMemorySegment(B, seg, a3 + qs + k, LE);
                    low0 = ((FloatVector) q0.and((byte) 15).castShape(F, 0)).fma(x0, low0);
                    low1 = ((FloatVector) q1.and((byte) 15).castShape(F, 0)).fma(x0, low1);
                    low2 = ((FloatVector) q2.and((byte) 15).castShape(F, 0)).fma(x0, low2);
                    low3 = ((FloatVector) q3.and((byte) 15).castShape(F, 0)).fma(x0, low3);
                    high0 = ((FloatVector) q0.lanewise(VectorOperators.LSHR, 4).castShape(F, 0)).fma(x1, high0);
                    high1 = ((FloatVector) q1.lanewise(VectorOperators.LSHR, 4).castShape(F, 0)).fma(x1, high1);
                    high2 = ((FloatVector) q2.lanewise(VectorOperators.LSHR, 4).castShape(F, 0)).fma(x1, high2);
                    high3 = ((FloatVector) q3.lanewise(VectorOperators.LSHR, 4).castShape(F, 0)).fma(x1, high3);
                }
                int lo = 2 * j, hi = 2 * j + 1;
                acc0 = low0.fma(FloatVector.broadcast(F, d0 * q4kScale(sl0, sh0, lo)), acc0);
                acc0 = aLow.fma(FloatVector.broadcast(F, m0 * q4kMin(sl0, sh0, lo)), acc0);
                acc0 = high0.fma(FloatVector.broadcast(F, d0 * q4kScale(sl0, sh0, hi)), acc0);
                acc0 = aHigh.fma(FloatVector.broadcast(F, m0 * q4kMin(sl0, sh0, hi)), acc0);
                acc1 = low1.fma(FloatVector.broadcast(F, d1 * q4kScale(sl1, sh1, lo)), acc1);
                acc1 = aLow.fma(FloatVector.broadcast(F, m1 * q4kMin(sl1, sh1, lo)), acc1);
                acc1 = high1.fma(FloatVector.broadcast(F, d1 * q4kScale(sl1, sh1, hi)), acc1);
                acc1 = aHigh.fma(FloatVector.broadcast(F, m1 * q4kMin(sl1, sh1, hi)), acc1);
                acc2 = low2.fma(FloatVector.broadcast(F, d2 * q4kScale(sl2, sh2, lo)), acc2);
                acc2 = aLow.fma(FloatVector.broadcast(F, m2 * q4kMin(sl2, sh2, lo)), acc2);
                acc2 = high2.fma(FloatVector.broadcast(F, d2 * q4kScale(sl2, sh2, hi)), acc2);
                acc2 = aHigh.fma(FloatVector.broadcast(F, m2 * q4kMin(sl2, sh2, hi)), acc2);
                acc3 = low3.fma(FloatVector.broadcast(F, d3 * q4kScale(sl3, sh3, lo)), acc3);
                acc3 = aLow.fma(FloatVector.broadcast(F, m3 * q4kMin(sl3, sh3, lo)), acc3);
                acc3 = high3.fma(FloatVector.broadcast(F, d3 * q4kScale(sl3, sh3, hi)), acc3);
                acc3 = aHigh.fma(FloatVector.broadcast(F, m3 * q4kMin(sl3, sh3, hi)), acc3);
            }
        }
        sum4(acc0, acc1, acc2, acc3, out, at, count);
    }

    /** Byte {@code k} (0..11) of the Q4_K scales, given as bytes 0..7 and 8..11. */
    private static int scaleByte(long bytes0to7, int bytes8to11, int k) {
        return (int) (k < 8 ? bytes0to7 >>> (8 * k) : bytes8to11 >>> (8 * (k - 8))) & 0xff;
    }

    /** {@link QuantScalar#q4kScale} from the scale bytes held in registers. */
    private static int q4kScale(long b0to7, int b8to11, int s) {
        if (s < 4) return scaleByte(b0to7, b8to11, s) & 63;
        return (scaleByte(b0to7, b8to11, s + 4) & 15) | ((scaleByte(b0to7, b8to11, s - 4) >>> 6) << 4);
    }

    /** {@link QuantScalar#q4kMin} from the scale bytes held in registers. */
    private static int q4kMin(long b0to7, int b8to11, int s) {
        if (s < 4) return scaleByte(b0to7, b8to11, s + 4) & 63;
        return (scaleByte(b0to7, b8to11, s + 4) >>> 4) | ((scaleByte(b0to7, b8to11, s) >>> 6) << 4);
    }

    private static void dequantizeQ4_K(MemorySegment seg, long off, float[] out, int outOff, int n) {
        for (int b = 0; b < n / 256; b++) {
            long at = off + 144L * b, qs = at + 16;
            float d = QuantScalar.half(seg, at), dmin = QuantScalar.half(seg, at + 2);
            long scales0to7 = seg.get(LONG_LE, at + 4);
            int scales8to11 = seg.get(INT_LE, at + 12);
            int o = outOff + 256 * b;
            for (int j = 0; j < 4; j++) {
                float d1 = d * q4kScale(scales0to7, scales8to11, 2 * j), m1 = dmin * q4kMin(scales0to7, scales8to11, 2 * j);
                float d2 = d * q4kScale(scales0to7, scales8to11, 2 * j + 1), m2 = dmin * q4kMin(scales0to7, scales8to11, 2 * j + 1);
                for (int k = 0; k < 32; k += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, seg, qs + 32 * j + k, LE);
                    ((FloatVector) q.and((byte) 15).castShape(F, 0)).mul(d1).sub(m1).intoArray(out, o + 64 * j + k);
                    ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).castShape(F, 0)).mul(d2).sub(m2).intoArray(out, o + 64 * j + 32 + k);
                }
            }
        }
    }

    private static void dot4Q6_K(MemorySegment seg, long o0, long o1, long o2, long o3, float[] x, int xOff, int n, float[] out, int at, int count) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int b = 0; b < n / 256; b++) {
            long a0 = o0 + 210L * b, a1 = o1 + 210L * b, a2 = o2 + 210L * b, a3 = o3 + 210L * b;
            float d0 = QuantScalar.half(seg, a0 + 208), d1 = QuantScalar.half(seg, a1 + 208);
            float d2 = QuantScalar.half(seg, a2 + 208), d3 = QuantScalar.half(seg, a3 + 208);
            for (int h = 0; h < 2; h++) {
                long ql = 64 * h, qh = 128 + 32 * h, sc = 192 + 8 * h;
                int xi = xOff + 256 * b + 128 * h;
                for (int l = 0; l < 32; l += L) {
                    FloatVector x0 = FloatVector.fromArray(F, x, xi + l), x1 = FloatVector.fromArray(F, x, xi + 32 + l);
                    FloatVector x2 = FloatVector.fromArray(F, x, xi + 64 + l), x3 = FloatVector.fromArray(F, x, xi + 96 + l);
                    long is = sc + l / 16;
                    // per row, values l, l+32, l+64, l+96: a nibble of ql, and bits 0-1, 2-3, 4-5, 6-7 of qh moved to bits 4-5
                    ByteVector low0 = ByteVector.fromMemorySegment(B, seg, a0 + ql + l, LE);
                    ByteVector high0 = ByteVector.fromMemorySegment(B, seg, a0 + ql + 32 + l, LE);
                    ByteVector hb0 = ByteVector.fromMemorySegment(B, seg, a0 + qh + l, LE);
                    acc0 = ((FloatVector) low0.and((byte) 15).or(hb0.lanewise(VectorOperators.LSHL, 4).and((byte) 0x30)).sub((byte) 32).castShape(F, 0))
                            .mul(x0).fma(FloatVector.broadcast(F, d0 * seg.get(ValueLayout.JAVA_BYTE, a0 + is)), acc0);
                    acc0 = ((FloatVector) high0.and((byte) 15).or(hb0.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30)).sub((byte) 32).castShape(F, 0))
                            .mul(x1).fma(FloatVector.broadcast(F, d0 * seg.get(ValueLayout.JAVA_BYTE, a0 + is + 2)), acc0);
                    acc0 = ((FloatVector) low0.lanewise(VectorOperators.LSHR, 4).or(hb0.and((byte) 0x30)).sub((byte) 32).castShape(F, 0))
                            .mul(x2).fma(FloatVector.broadcast(F, d0 * seg.get(ValueLayout.JAVA_BYTE, a0 + is + 4)), acc0);
                    acc0 = ((FloatVector) high0.lanewise(VectorOperators.LSHR, 4).or(hb0.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30)).sub((byte) 32).castShape(F, 0))
                            .mul(x3).fma(FloatVector.broadcast(F, d0 * seg.get(ValueLayout.JAVA_BYTE, a0 + is + 6)), acc0);
                    ByteVector low1 = ByteVector.fromMemorySegment(B, seg, a1 + ql + l, LE);
                    ByteVector high1 = ByteVector.fromMemorySegment(B, seg, a1 + ql + 32 + l, LE);
                    ByteVector hb1 = ByteVector.fromMemorySegment(B, seg, a1 + qh + l, LE);
                    acc1 = ((FloatVector) low1.and((byte) 15).or(hb1.lanewise(VectorOperators.LSHL, 4).and((byte) 0x30)).sub((byte) 32).castShape(F, 0))
                            .mul(x0).fma(FloatVector.broadcast(F, d1 * seg.get(ValueLayout.JAVA_BYTE, a1 + is)), acc1);
                    acc1 = ((FloatVector) high1.and((byte) 15).or(hb1.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30)).sub((byte) 32).castShape(F, 0))
                            .mul(x1).fma(FloatVector.broadcast(F, d1 * seg.get(ValueLayout.JAVA_BYTE, a1 + is + 2)), acc1);
                    acc1 = ((FloatVector) low1.lanewise(VectorOperators.LSHR, 4).or(hb1.and((byte) 0x30)).sub((byte) 32).castShape(F, 0))
                            .mul(x2).fma(FloatVector.broadcast(F, d1 * seg.get(ValueLayout.JAVA_BYTE, a1 + is + 4)), acc1);
                    acc1 = ((FloatVector) high1.lanewise(VectorOperators.LSHR, 4).or(hb1.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30)).sub((byte) 32).castShape(F, 0))
                            .mul(x3).fma(FloatVector.broadcast(F, d1 * seg.get(ValueLayout.JAVA_BYTE, a1 + is + 6)), acc1);
                    ByteVector low2 = ByteVector.fromMemorySegment(B, seg, a2 + ql + l, LE);
                    ByteVector high2 = ByteVector.fromMemorySegment(B, seg, a2 + ql + 32 + l, LE);
                    ByteVector hb2 = ByteVector.fromMemorySegment(B, seg, a2 + qh + l, LE);
                    acc2 = ((FloatVector) low2.and((byte) 15).or(hb2.lanewise(VectorOperators.LSHL, 4).and((byte) 0x30)).sub((byte) 32).castShape(F, 0))
                            .mul(x0).fma(FloatVector.broadcast(F, d2 * seg.get(ValueLayout.JAVA_BYTE, a2 + is)), acc2);
                    acc2 = ((FloatVector) high2.and((byte) 15).or(hb2.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30)).sub((byte) 32).castShape(F, 0))
                            .mul(x1).fma(FloatVector.broadcast(F, d2 * seg.get(ValueLayout.JAVA_BYTE, a2 + is + 2)), acc2);
                    acc2 = ((FloatVector) low2.lanewise(VectorOperators.LSHR, 4).or(hb2.and((byte) 0x30)).sub((byte) 32).castShape(F, 0))
                            .mul(x2).fma(FloatVector.broadcast(F, d2 * seg.get(ValueLayout.JAVA_BYTE, a2 + is + 4)), acc2);
                    acc2 = ((FloatVector) high2.lanewise(VectorOperators.LSHR, 4).or(hb2.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30)).sub((byte) 32).castShape(F, 0))
                            .mul(x3).fma(FloatVector.broadcast(F, d2 * seg.get(ValueLayout.JAVA_BYTE, a2 + is + 6)), acc2);
                    ByteVector low3 = ByteVector.fromMemorySegment(B, seg, a3 + ql + l, LE);
                    ByteVector high3 = ByteVector.fromMemorySegment(B, seg, a3 + ql + 32 + l, LE);
                    ByteVector hb3 = ByteVector.fromMemorySegment(B, seg, a3 + qh + l, LE);
                    acc3 = ((FloatVector) low3.and((byte) 15).or(hb3.lanewise(VectorOperators.LSHL, 4).and((byte) 0x30)).sub((byte) 32).castShape(F, 0))
                            .mul(x0).fma(FloatVector.broadcast(F, d3 * seg.get(ValueLayout.JAVA_BYTE, a3 + is)), acc3);
                    acc3 = ((FloatVector) high3.and((byte) 15).or(hb3.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30)).sub((byte) 32).castShape(F, 0))
                            .mul(x1).fma(FloatVector.broadcast(F, d3 * seg.get(ValueLayout.JAVA_BYTE, a3 + is + 2)), acc3);
                    acc3 = ((FloatVector) low3.lanewise(VectorOperators.LSHR, 4).or(hb3.and((byte) 0x30)).sub((byte) 32).castShape(F, 0))
                            .mul(x2).fma(FloatVector.broadcast(F, d3 * seg.get(ValueLayout.JAVA_BYTE, a3 + is + 4)), acc3);
                    acc3 = ((FloatVector) high3.lanewise(VectorOperators.LSHR, 4).or(hb3.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30)).sub((byte) 32).castShape(F, 0))
                            .mul(x3).fma(FloatVector.broadcast(F, d3 * seg.get(ValueLayout.JAVA_BYTE, a3 + is + 6)), acc3);
                }
            }
        }
        sum4(acc0, acc1, acc2, acc3, out, at, count);
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
}
