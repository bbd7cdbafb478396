package ai.behemoth.tensor.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.stream.IntStream;

/**
 * Q4_0, Q8_0, Q4_K, Q5_K and Q6_K matrix products in integers, against input rows quantised to 8 bits
 * ({@link Q8Activations}): llama.cpp's arithmetic, opt-in, since it rounds the activations. (For
 * the K types llama.cpp rounds them with one scale per 256 values, Q8_K; here, as for the others, per 32.)
 *
 * <p>Why a second layout: the Vector API has no 8-bit dot-product instruction, so the float kernel
 * of {@link Quant#dotRows} spends its time widening nibbles to floats. Here the weights are
 * repacked once ({@link #interleave}) into groups of {@link #G} rows (one short vector's lanes) so
 * that byte j of a block holds, for every row of the group, the quant byte j of that row: one
 * vector load and a zero extension give a nibble of every row, multiplied by one broadcast
 * activation in 16-bit lanes. A block's 32 products per row add up in two 16-bit sums (low nibbles,
 * high nibbles: at most 16·15·127 each, no overflow), so no lane is summed across: per block, two
 * widenings to int, the −8 offset as −8·Σq of the activation block, a conversion to float and one
 * fused multiply-add per half group with the rows' scales. About 2.7 times the float kernel's
 * speed in cache on Zen 4 (40 against 15 values per ns, one thread, 512-value rows).
 * Q8_0 blocks are laid out the same way, 32 runs of quant bytes: sign-extended to 16 bits, two
 * positions' products (at most 2·128·127) are added in 16 bits and split into even and odd rows'
 * int sums once per pair (31 against 16 values per ns). Q4_K's nibbles go as Q4_0's, two 16-bit
 * sums of 16 positions per sub-block of 32, then its 6-bit scales and minimums as integers per row (42 against 9.5). Q5_K's
 * and Q6_K's values do not fall on byte boundaries, so their copies hold them unpacked, a byte each
 * (280 and 276 bytes per 256 values against the files' 176 and 210), summed 8 positions per 16-bit sum.
 *
 * <p>The integer sum of a block is exact, so each row's result is
 * {@code Σ_b fma(isum_b·d_a, d_w, acc)} in block order: {@link #multiplyScalar} reads the file's own
 * layout and gives the same bits.
 */
public final class Q8Products {
    private Q8Products() {}

    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, FloatVector.SPECIES_PREFERRED.vectorShape());
    /** Rows of a group: one short vector's lanes. */
    public static final int G = S.length();
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * G));
    /** Half a group's bytes, widened to a group half's ints (Q4_K's scales and mins). */
    private static final VectorSpecies<Byte> BH = VectorSpecies.of(byte.class, VectorShape.forBitSize(4 * G));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    private static final VectorSpecies<Float> F = VectorSpecies.of(float.class, S.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    /**
     * Q8_0's even-row and odd-row halves interleaved back into row order: the first half of the rows
     * (even lane k of the result from lane k of the first vector, odd lane k from lane k of the second),
     * and the second half. An index below 0 takes from the second vector of a two-vector rearrange.
     */
    private static final VectorShuffle<Float> ROWS_FIRST_HALF = zip(0), ROWS_SECOND_HALF = zip(G / 4);

    private static VectorShuffle<Float> zip(int from) {
        return VectorShuffle.fromArray(F, IntStream.range(0, G / 2).map(l -> from + l / 2 - (l % 2) * (G / 2)).toArray(), 0);
    }

    /** Whether {@code type} has an integer kernel here. */
    public static boolean supports(GgmlType type) {
        return switch (type) {
            case Q4_0, Q8_0, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /**
     * Bytes of one block of a group. Q4_0, Q8_0: G float scales, then a run of G bytes for each quant
     * byte of a block (16, 32); Q8_0's scales hold the even rows first, then the odd ones
     * ({@link #multiplyQ8_0}). Q4_K: G float d, G float dmin, for each of the 8 sub-blocks G scale
     * bytes, then G min bytes, then 128 runs of G quant bytes. Q5_K: Q4_K's header, then the 256
     * values unpacked (0..31) in 256 runs of G. Q6_K: G float d, 16 runs of G scale bytes, then the
     * 256 values unpacked, q − 32 as a byte, in 256 runs of G.
     */
    private static int blockBytes(GgmlType type) {
        return switch (type) {
            case Q4_K -> Q4_K_QUANTS * G + 128 * G;
            case Q5_K -> Q4_K_QUANTS * G + 256 * G;
            case Q6_K -> Q6_K_VALUES * G + 256 * G;
            default -> 4 * G + (type.blockBytes - 2) * G;
        };
    }

    /** Where a Q6_K block's value runs start: after d and the 16 sub-blocks' scales. */
    private static final int Q6_K_VALUES = 4 + 16;

    /** Where a Q4_K block's quant runs start: after d, dmin, and the sub-blocks' scales and mins. */
    private static final int Q4_K_QUANTS = 4 + 4 + 8 + 8;

    /** Bytes that {@code rows} rows of {@code cols} values of {@code type} take once interleaved. */
    public static long interleavedBytes(GgmlType type, int rows, int cols) {
        return (long) rows / G * (cols / type.blockSize) * blockBytes(type);
    }

    /**
     * The {@code rows} rows of {@code cols} values of {@code type} at {@code seg} in groups of
     * {@link #G} rows (rows a multiple of G): for group g and block b, at {@code (g·blocks + b)·blockBytes},
     * the G rows' scales as floats (Q4_K: d, dmin, then each sub-block's 6-bit scales and mins as
     * bytes), then for each quant byte j of a block the G rows' byte j.
     */
    public static MemorySegment interleave(GgmlType type, MemorySegment seg, int rows, int cols, Arena arena) {
        if (!supports(type)) throw new IllegalArgumentException("no 8-bit activation kernel for " + type);
        if (rows % G != 0) throw new IllegalArgumentException(rows + " rows do not make groups of " + G);
        long rowBytes = type.rowBytes(cols);
        if (seg.byteSize() != rows * rowBytes) throw new IllegalArgumentException(seg.byteSize() + " bytes do not hold " + rows + " " + type + " rows of " + cols);
        int blocks = cols / type.blockSize, blockBytes = blockBytes(type);
        MemorySegment out = arena.allocate(interleavedBytes(type, rows, cols), 64);
        for (int g = 0; g < rows / G; g++)
            for (int b = 0; b < blocks; b++)
                for (int r = 0; r < G; r++)
                    interleaveBlock(type, seg, (long) (g * G + r) * rowBytes + (long) type.blockBytes * b, out, ((long) g * blocks + b) * blockBytes, r);
        return out;
    }

    /** Block {@code src} of a row as row {@code r} of the group's block at {@code at} (the layouts of {@link #blockBytes}). */
    private static void interleaveBlock(GgmlType type, MemorySegment seg, long src, MemorySegment out, long at, int r) {
        switch (type) {
            case Q4_0, Q8_0 -> {
                int slot = type == GgmlType.Q8_0 ? (r % 2 == 0 ? r / 2 : G / 2 + r / 2) : r;
                out.set(FLOAT_LE, at + 4L * slot, Float.float16ToFloat(seg.get(SHORT_LE, src)));
                for (int j = 0; j < type.blockBytes - 2; j++) out.set(ValueLayout.JAVA_BYTE, at + 4L * G + (long) G * j + r, seg.get(ValueLayout.JAVA_BYTE, src + 2 + j));
            }
            case Q4_K, Q5_K -> {
                out.set(FLOAT_LE, at + 4L * r, Float.float16ToFloat(seg.get(SHORT_LE, src)));
                out.set(FLOAT_LE, at + 4L * G + 4L * r, Float.float16ToFloat(seg.get(SHORT_LE, src + 2)));
                for (int sub = 0; sub < 8; sub++) {
                    out.set(ValueLayout.JAVA_BYTE, at + 8L * G + 2L * G * sub + r, (byte) QuantScalar.q4kScale(seg, src + 4, sub));
                    out.set(ValueLayout.JAVA_BYTE, at + 8L * G + 2L * G * sub + G + r, (byte) QuantScalar.q4kMin(seg, src + 4, sub));
                }
                long quants = at + (long) Q4_K_QUANTS * G;
                if (type == GgmlType.Q4_K) // the packed nibbles as they are
                    for (int j = 0; j < 128; j++) out.set(ValueLayout.JAVA_BYTE, quants + (long) G * j + r, seg.get(ValueLayout.JAVA_BYTE, src + 16 + j));
                else // Q5_K's values unpacked: their fifth bits lie apart
                    for (int v = 0; v < 256; v++) out.set(ValueLayout.JAVA_BYTE, quants + (long) G * v + r, (byte) QuantScalar.q5kQuant(seg, src, v));
            }
            case Q6_K -> { // the values unpacked: 6-bit fields do not fall on byte boundaries
                out.set(FLOAT_LE, at + 4L * r, Float.float16ToFloat(seg.get(SHORT_LE, src + 208)));
                for (int sub = 0; sub < 16; sub++) out.set(ValueLayout.JAVA_BYTE, at + 4L * G + (long) G * sub + r, (byte) QuantScalar.q6kScale(seg, src, sub));
                for (int v = 0; v < 256; v++) out.set(ValueLayout.JAVA_BYTE, at + (long) Q6_K_VALUES * G + (long) G * v + r, (byte) QuantScalar.q6kQuant(seg, src, v));
            }
            default -> throw new IllegalArgumentException("no 8-bit activation kernel for " + type);
        }
    }

    /**
     * {@code out[outOff + r − first] = Σ_i W[r, i]·a[t, i]} for the rows {@code [first, first + count)}
     * (both multiples of G) of the interleaved {@code type} matrix {@code groups} of {@code cols}
     * columns, against input row {@code t} of {@code a}.
     */
    public static void multiply(GgmlType type, MemorySegment groups, int first, int count, int cols, Q8Activations a, int t, float[] out, int outOff) {
        switch (type) {
            case Q4_0 -> multiplyQ4_0(groups, first, count, cols, a, t, out, outOff);
            case Q8_0 -> multiplyQ8_0(groups, first, count, cols, a, t, out, outOff);
            case Q4_K -> multiplyQ4_K(groups, first, count, cols, a, t, out, outOff);
            case Q5_K -> multiplyQ5_K(groups, first, count, cols, a, t, out, outOff);
            case Q6_K -> multiplyQ6_K(groups, first, count, cols, a, t, out, outOff);
            default -> throw new IllegalArgumentException("no 8-bit activation kernel for " + type);
        }
    }

    /**
     * Whether {@link #multiply4} serves {@code type}: four input rows per pass, so that every product
     * of such a matrix, prompts too, reads the copy alone and the file's pages can go. Q4_0's prompts
     * run faster so than through the float products; Q8_0's faster on a 1.7B file (142–146 against
     * 121–123 tokens/s) and ~10% slower on a small one, for half the memory.
     */
    public static boolean multipliesFourRows(GgmlType type) {
        return type == GgmlType.Q4_0 || type == GgmlType.Q8_0;
    }

    /**
     * {@link #multiply} for the four input rows {@code t..t+3} at once, the same bits for each (Q4_0,
     * Q8_0: {@link #multipliesFourRows}). Row {@code t + k} goes to {@code out[outOff + k·ldOut + r − first]}.
     */
    public static void multiply4(GgmlType type, MemorySegment groups, int first, int count, int cols, Q8Activations a, int t, float[] out, int outOff, int ldOut) {
        switch (type) {
            case Q4_0 -> multiply4Q4_0(groups, first, count, cols, a, t, out, outOff, ldOut);
            case Q8_0 -> multiply4Q8_0(groups, first, count, cols, a, t, out, outOff, ldOut);
            default -> throw new IllegalArgumentException("no four-row 8-bit activation kernel for " + type);
        }
    }

    private static void multiplyQ4_0(MemorySegment groups, int first, int count, int cols, Q8Activations a, int t, float[] out, int outOff) {
        int blocks = cols / 32, half = G / 2, blockBytes = blockBytes(GgmlType.Q4_0);
        short[] q = a.q;
        for (int g = first / G; g < (first + count) / G; g++) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
            long base = (long) g * blocks * blockBytes;
            for (int b = 0; b < blocks; b++) {
                long at = base + (long) b * blockBytes, quants = at + 4L * G;
                int ai = t * cols + 32 * b, ab = t * blocks + b;
                ShortVector low = ShortVector.zero(S), high = low;
                for (int j = 0; j < 16; j++) {
                    ShortVector nibbles = (ShortVector) ByteVector.fromMemorySegment(B, groups, quants + (long) G * j, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    low = nibbles.and((short) 15).mul(q[ai + j]).add(low);
                    high = nibbles.lanewise(VectorOperators.LSHR, 4).mul(q[ai + j + 16]).add(high);
                }
                IntVector offset = IntVector.broadcast(I, 8 * a.sum[ab]);
                IntVector sum0 = ((IntVector) low.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) high.convertShape(VectorOperators.S2I, I, 0)).sub(offset);
                IntVector sum1 = ((IntVector) low.convertShape(VectorOperators.S2I, I, 1)).add((IntVector) high.convertShape(VectorOperators.S2I, I, 1)).sub(offset);
                FloatVector step = FloatVector.broadcast(F, a.d[ab]);
                acc0 = ((FloatVector) sum0.convert(VectorOperators.I2F, 0)).mul(step).fma(FloatVector.fromMemorySegment(F, groups, at, LE), acc0);
                acc1 = ((FloatVector) sum1.convert(VectorOperators.I2F, 0)).mul(step).fma(FloatVector.fromMemorySegment(F, groups, at + 4L * half, LE), acc1);
            }
            int o = outOff + g * G - first;
            acc0.intoArray(out, o);
            acc1.intoArray(out, o + half);
        }
    }

    /** {@link #multiply4} of a Q4_0 matrix: each nibble vector feeds four rows' sums. */
    private static void multiply4Q4_0(MemorySegment groups, int first, int count, int cols, Q8Activations a, int t, float[] out, int outOff, int ldOut) {
        int blocks = cols / 32, half = G / 2, blockBytes = blockBytes(GgmlType.Q4_0);
        short[] q = a.q;
        int[] sums = a.sum;
        float[] steps = a.d;
        for (int g = first / G; g < (first + count) / G; g++) {
            FloatVector acc00 = FloatVector.zero(F), acc01 = acc00, acc10 = acc00, acc11 = acc00, acc20 = acc00, acc21 = acc00, acc30 = acc00, acc31 = acc00;
            long base = (long) g * blocks * blockBytes;
            for (int b = 0; b < blocks; b++) {
                long at = base + (long) b * blockBytes, quants = at + 4L * G;
                int a0 = t * cols + 32 * b, a1 = a0 + cols, a2 = a1 + cols, a3 = a2 + cols;
                int ab0 = t * blocks + b, ab1 = ab0 + blocks, ab2 = ab1 + blocks, ab3 = ab2 + blocks;
                ShortVector low0 = ShortVector.zero(S), high0 = low0, low1 = low0, high1 = low0, low2 = low0, high2 = low0, low3 = low0, high3 = low0;
                for (int j = 0; j < 16; j++) {
                    ShortVector nibbles = (ShortVector) ByteVector.fromMemorySegment(B, groups, quants + (long) G * j, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector low = nibbles.and((short) 15), high = nibbles.lanewise(VectorOperators.LSHR, 4);
                    low0 = low.mul(q[a0 + j]).add(low0);
                    high0 = high.mul(q[a0 + j + 16]).add(high0);
                    low1 = low.mul(q[a1 + j]).add(low1);
                    high1 = high.mul(q[a1 + j + 16]).add(high1);
                    low2 = low.mul(q[a2 + j]).add(low2);
                    high2 = high.mul(q[a2 + j + 16]).add(high2);
                    low3 = low.mul(q[a3 + j]).add(low3);
                    high3 = high.mul(q[a3 + j + 16]).add(high3);
                }
                FloatVector scales0 = FloatVector.fromMemorySegment(F, groups, at, LE), scales1 = FloatVector.fromMemorySegment(F, groups, at + 4L * half, LE);
                // per input row, as in multiplyQ4_0; written out four times, since a helper taking vectors is the kind of
                // call C2 leaves out of line in a method this large, and it would then box every vector handed to it
                IntVector offset = IntVector.broadcast(I, 8 * sums[ab0]);
                FloatVector step = FloatVector.broadcast(F, steps[ab0]);
                IntVector sum0 = ((IntVector) low0.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) high0.convertShape(VectorOperators.S2I, I, 0)).sub(offset);
                IntVector sum1 = ((IntVector) low0.convertShape(VectorOperators.S2I, I, 1)).add((IntVector) high0.convertShape(VectorOperators.S2I, I, 1)).sub(offset);
                acc00 = ((FloatVector) sum0.convert(VectorOperators.I2F, 0)).mul(step).fma(scales0, acc00);
                acc01 = ((FloatVector) sum1.convert(VectorOperators.I2F, 0)).mul(step).fma(scales1, acc01);
                offset = IntVector.broadcast(I, 8 * sums[ab1]);
                step = FloatVector.broadcast(F, steps[ab1]);
                sum0 = ((IntVector) low1.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) high1.convertShape(VectorOperators.S2I, I, 0)).sub(offset);
                sum1 = ((IntVector) low1.convertShape(VectorOperators.S2I, I, 1)).add((IntVector) high1.convertShape(VectorOperators.S2I, I, 1)).sub(offset);
                acc10 = ((FloatVector) sum0.convert(VectorOperators.I2F, 0)).mul(step).fma(scales0, acc10);
                acc11 = ((FloatVector) sum1.convert(VectorOperators.I2F, 0)).mul(step).fma(scales1, acc11);
                offset = IntVector.broadcast(I, 8 * sums[ab2]);
                step = FloatVector.broadcast(F, steps[ab2]);
                sum0 = ((IntVector) low2.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) high2.convertShape(VectorOperators.S2I, I, 0)).sub(offset);
                sum1 = ((IntVector) low2.convertShape(VectorOperators.S2I, I, 1)).add((IntVector) high2.convertShape(VectorOperators.S2I, I, 1)).sub(offset);
                acc20 = ((FloatVector) sum0.convert(VectorOperators.I2F, 0)).mul(step).fma(scales0, acc20);
                acc21 = ((FloatVector) sum1.convert(VectorOperators.I2F, 0)).mul(step).fma(scales1, acc21);
                offset = IntVector.broadcast(I, 8 * sums[ab3]);
                step = FloatVector.broadcast(F, steps[ab3]);
                sum0 = ((IntVector) low3.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) high3.convertShape(VectorOperators.S2I, I, 0)).sub(offset);
                sum1 = ((IntVector) low3.convertShape(VectorOperators.S2I, I, 1)).add((IntVector) high3.convertShape(VectorOperators.S2I, I, 1)).sub(offset);
                acc30 = ((FloatVector) sum0.convert(VectorOperators.I2F, 0)).mul(step).fma(scales0, acc30);
                acc31 = ((FloatVector) sum1.convert(VectorOperators.I2F, 0)).mul(step).fma(scales1, acc31);
            }
            int o = outOff + g * G - first;
            acc00.intoArray(out, o);
            acc01.intoArray(out, o + half);
            acc10.intoArray(out, o + ldOut);
            acc11.intoArray(out, o + ldOut + half);
            acc20.intoArray(out, o + 2 * ldOut);
            acc21.intoArray(out, o + 2 * ldOut + half);
            acc30.intoArray(out, o + 3 * ldOut);
            acc31.intoArray(out, o + 3 * ldOut + half);
        }
    }

    /** {@link #multiply4} of a Q8_0 matrix, as {@link #multiplyQ8_0}: each pair of quant vectors feeds four rows' sums. */
    private static void multiply4Q8_0(MemorySegment groups, int first, int count, int cols, Q8Activations a, int t, float[] out, int outOff, int ldOut) {
        int blocks = cols / 32, half = G / 2, blockBytes = blockBytes(GgmlType.Q8_0);
        short[] q = a.q;
        float[] steps = a.d;
        for (int g = first / G; g < (first + count) / G; g++) {
            FloatVector even0 = FloatVector.zero(F), odd0 = even0, even1 = even0, odd1 = even0, even2 = even0, odd2 = even0, even3 = even0, odd3 = even0;
            long base = (long) g * blocks * blockBytes;
            for (int b = 0; b < blocks; b++) {
                long at = base + (long) b * blockBytes, quants = at + 4L * G;
                int a0 = t * cols + 32 * b, a1 = a0 + cols, a2 = a1 + cols, a3 = a2 + cols, ab = t * blocks + b;
                IntVector e0 = IntVector.zero(I), o0 = e0, e1 = e0, o1 = e0, e2 = e0, o2 = e0, e3 = e0, o3 = e0;
                for (int i = 0; i < 32; i += 2) {
                    ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B, groups, quants + (long) G * i, LE).convertShape(VectorOperators.B2S, S, 0);
                    ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B, groups, quants + (long) G * (i + 1), LE).convertShape(VectorOperators.B2S, S, 0);
                    IntVector pairs = w0.mul(q[a0 + i]).add(w1.mul(q[a0 + i + 1])).reinterpretAsInts();
                    e0 = e0.add(pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                    o0 = o0.add(pairs.lanewise(VectorOperators.ASHR, 16));
                    pairs = w0.mul(q[a1 + i]).add(w1.mul(q[a1 + i + 1])).reinterpretAsInts();
                    e1 = e1.add(pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                    o1 = o1.add(pairs.lanewise(VectorOperators.ASHR, 16));
                    pairs = w0.mul(q[a2 + i]).add(w1.mul(q[a2 + i + 1])).reinterpretAsInts();
                    e2 = e2.add(pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                    o2 = o2.add(pairs.lanewise(VectorOperators.ASHR, 16));
                    pairs = w0.mul(q[a3 + i]).add(w1.mul(q[a3 + i + 1])).reinterpretAsInts();
                    e3 = e3.add(pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                    o3 = o3.add(pairs.lanewise(VectorOperators.ASHR, 16));
                }
                FloatVector evenScales = FloatVector.fromMemorySegment(F, groups, at, LE), oddScales = FloatVector.fromMemorySegment(F, groups, at + 4L * half, LE);
                FloatVector step = FloatVector.broadcast(F, steps[ab]);
                even0 = ((FloatVector) e0.convert(VectorOperators.I2F, 0)).mul(step).fma(evenScales, even0);
                odd0 = ((FloatVector) o0.convert(VectorOperators.I2F, 0)).mul(step).fma(oddScales, odd0);
                step = FloatVector.broadcast(F, steps[ab + blocks]);
                even1 = ((FloatVector) e1.convert(VectorOperators.I2F, 0)).mul(step).fma(evenScales, even1);
                odd1 = ((FloatVector) o1.convert(VectorOperators.I2F, 0)).mul(step).fma(oddScales, odd1);
                step = FloatVector.broadcast(F, steps[ab + 2 * blocks]);
                even2 = ((FloatVector) e2.convert(VectorOperators.I2F, 0)).mul(step).fma(evenScales, even2);
                odd2 = ((FloatVector) o2.convert(VectorOperators.I2F, 0)).mul(step).fma(oddScales, odd2);
                step = FloatVector.broadcast(F, steps[ab + 3 * blocks]);
                even3 = ((FloatVector) e3.convert(VectorOperators.I2F, 0)).mul(step).fma(evenScales, even3);
                odd3 = ((FloatVector) o3.convert(VectorOperators.I2F, 0)).mul(step).fma(oddScales, odd3);
            }
            int o = outOff + g * G - first;
            even0.rearrange(ROWS_FIRST_HALF, odd0).intoArray(out, o);
            even0.rearrange(ROWS_SECOND_HALF, odd0).intoArray(out, o + half);
            even1.rearrange(ROWS_FIRST_HALF, odd1).intoArray(out, o + ldOut);
            even1.rearrange(ROWS_SECOND_HALF, odd1).intoArray(out, o + ldOut + half);
            even2.rearrange(ROWS_FIRST_HALF, odd2).intoArray(out, o + 2 * ldOut);
            even2.rearrange(ROWS_SECOND_HALF, odd2).intoArray(out, o + 2 * ldOut + half);
            even3.rearrange(ROWS_FIRST_HALF, odd3).intoArray(out, o + 3 * ldOut);
            even3.rearrange(ROWS_SECOND_HALF, odd3).intoArray(out, o + 3 * ldOut + half);
        }
    }

    /**
     * Q8_0: two positions' products (at most 2·128·127) add up in 16 bits; the pair sums of rows 2i and
     * 2i + 1 share int lane i, so two shifts split them into an even and an odd int sum, and the
     * block's scales lie even rows first to match; the two halves are interleaved back into row order
     * once per group. Widening each half of the 16-bit sums instead, a lane shuffle each, ran at 27
     * against 31 values per ns (four input rows: 33 against 37).
     */
    private static void multiplyQ8_0(MemorySegment groups, int first, int count, int cols, Q8Activations a, int t, float[] out, int outOff) {
        int blocks = cols / 32, half = G / 2, blockBytes = blockBytes(GgmlType.Q8_0);
        short[] q = a.q;
        for (int g = first / G; g < (first + count) / G; g++) {
            FloatVector even = FloatVector.zero(F), odd = even;
            long base = (long) g * blocks * blockBytes;
            for (int b = 0; b < blocks; b++) {
                long at = base + (long) b * blockBytes, quants = at + 4L * G;
                int ai = t * cols + 32 * b;
                IntVector evenSum = IntVector.zero(I), oddSum = evenSum;
                for (int i = 0; i < 32; i += 2) {
                    ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B, groups, quants + (long) G * i, LE).convertShape(VectorOperators.B2S, S, 0);
                    ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B, groups, quants + (long) G * (i + 1), LE).convertShape(VectorOperators.B2S, S, 0);
                    IntVector pairs = w0.mul(q[ai + i]).add(w1.mul(q[ai + i + 1])).reinterpretAsInts();
                    evenSum = evenSum.add(pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                    oddSum = oddSum.add(pairs.lanewise(VectorOperators.ASHR, 16));
                }
                FloatVector step = FloatVector.broadcast(F, a.d[t * blocks + b]);
                even = ((FloatVector) evenSum.convert(VectorOperators.I2F, 0)).mul(step).fma(FloatVector.fromMemorySegment(F, groups, at, LE), even);
                odd = ((FloatVector) oddSum.convert(VectorOperators.I2F, 0)).mul(step).fma(FloatVector.fromMemorySegment(F, groups, at + 4L * half, LE), odd);
            }
            int o = outOff + g * G - first;
            even.rearrange(ROWS_FIRST_HALF, odd).intoArray(out, o);
            even.rearrange(ROWS_SECOND_HALF, odd).intoArray(out, o + half);
        }
    }

    /**
     * Q4_K: per sub-block of 32 the products of the 4-bit quants (0..15) add up in two 16-bit sums of
     * 16 positions each, widened to int and multiplied by the rows' 6-bit scales; then, per row,
     * {@code d·Σ_s d_a·sc_s·isum_s − dmin·Σ_s m_s·d_a·Σa_s} over the block's 8 sub-blocks.
     */
    private static void multiplyQ4_K(MemorySegment groups, int first, int count, int cols, Q8Activations a, int t, float[] out, int outOff) {
        int blocks = cols / 256, half = G / 2, blockBytes = blockBytes(GgmlType.Q4_K), subBlocks = cols / 32;
        short[] q = a.q;
        for (int g = first / G; g < (first + count) / G; g++) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
            long base = (long) g * blocks * blockBytes;
            for (int b = 0; b < blocks; b++) {
                long at = base + (long) b * blockBytes, quants = at + (long) Q4_K_QUANTS * G;
                FloatVector scaled0 = FloatVector.zero(F), scaled1 = scaled0, mins0 = scaled0, mins1 = scaled0;
                for (int c = 0; c < 4; c++) { // 64 values: sub-block 2c in the low nibbles, 2c + 1 in the high ones
                    int ai = t * cols + 256 * b + 64 * c;
                    long runs = quants + 32L * G * c;
                    ShortVector low0 = ShortVector.zero(S), low1 = low0, high0 = low0, high1 = low0;
                    for (int l = 0; l < 16; l++) { // positions l and l + 16: four independent chains
                        ShortVector nibbles = (ShortVector) ByteVector.fromMemorySegment(B, groups, runs + (long) G * l, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                        ShortVector later = (ShortVector) ByteVector.fromMemorySegment(B, groups, runs + (long) G * (l + 16), LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                        low0 = nibbles.and((short) 15).mul(q[ai + l]).add(low0);
                        high0 = nibbles.lanewise(VectorOperators.LSHR, 4).mul(q[ai + 32 + l]).add(high0);
                        low1 = later.and((short) 15).mul(q[ai + l + 16]).add(low1);
                        high1 = later.lanewise(VectorOperators.LSHR, 4).mul(q[ai + 48 + l]).add(high1);
                    }
                    for (int h = 0; h < 2; h++) { // the two sub-blocks: 2c (low nibbles), 2c + 1 (high)
                        int sub = 2 * c + h, ab = t * subBlocks + 8 * b + sub;
                        ShortVector s0 = h == 0 ? low0 : high0, s1 = h == 0 ? low1 : high1;
                        long scales = at + 8L * G + 2L * G * sub, mins = scales + G;
                        IntVector sum0 = ((IntVector) s0.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) s1.convertShape(VectorOperators.S2I, I, 0));
                        IntVector sum1 = ((IntVector) s0.convertShape(VectorOperators.S2I, I, 1)).add((IntVector) s1.convertShape(VectorOperators.S2I, I, 1));
                        IntVector sc0 = (IntVector) ByteVector.fromMemorySegment(BH, groups, scales, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                        IntVector sc1 = (IntVector) ByteVector.fromMemorySegment(BH, groups, scales + half, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                        FloatVector m0 = (FloatVector) ByteVector.fromMemorySegment(BH, groups, mins, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0).convert(VectorOperators.I2F, 0);
                        FloatVector m1 = (FloatVector) ByteVector.fromMemorySegment(BH, groups, mins + half, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0).convert(VectorOperators.I2F, 0);
                        FloatVector step = FloatVector.broadcast(F, a.d[ab]), stepSum = FloatVector.broadcast(F, a.d[ab] * a.sum[ab]);
                        scaled0 = ((FloatVector) sum0.mul(sc0).convert(VectorOperators.I2F, 0)).fma(step, scaled0);
                        scaled1 = ((FloatVector) sum1.mul(sc1).convert(VectorOperators.I2F, 0)).fma(step, scaled1);
                        mins0 = m0.fma(stepSum, mins0);
                        mins1 = m1.fma(stepSum, mins1);
                    }
                }
                FloatVector d0 = FloatVector.fromMemorySegment(F, groups, at, LE), d1 = FloatVector.fromMemorySegment(F, groups, at + 4L * half, LE);
                FloatVector dmin0 = FloatVector.fromMemorySegment(F, groups, at + 4L * G, LE), dmin1 = FloatVector.fromMemorySegment(F, groups, at + 4L * G + 4L * half, LE);
                acc0 = dmin0.neg().fma(mins0, d0.fma(scaled0, acc0));
                acc1 = dmin1.neg().fma(mins1, d1.fma(scaled1, acc1));
            }
            int o = outOff + g * G - first;
            acc0.intoArray(out, o);
            acc1.intoArray(out, o + half);
        }
    }

    /**
     * Q5_K, from its unpacked values (0..31): per sub-block of 32, four 16-bit sums of 8 positions (at
     * most 8·31·127), widened; then as Q4_K, scales and minimums per row (the same lines as
     * {@link #multiplyQ4_K}'s: a shared helper taking vectors would box them, see {@link #multiply4Q4_0}).
     */
    private static void multiplyQ5_K(MemorySegment groups, int first, int count, int cols, Q8Activations a, int t, float[] out, int outOff) {
        int blocks = cols / 256, half = G / 2, blockBytes = blockBytes(GgmlType.Q5_K), subBlocks = cols / 32;
        short[] q = a.q;
        for (int g = first / G; g < (first + count) / G; g++) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
            long base = (long) g * blocks * blockBytes;
            for (int b = 0; b < blocks; b++) {
                long at = base + (long) b * blockBytes, values = at + (long) Q4_K_QUANTS * G;
                FloatVector scaled0 = FloatVector.zero(F), scaled1 = scaled0, mins0 = scaled0, mins1 = scaled0;
                for (int sub = 0; sub < 8; sub++) {
                    int ai = t * cols + 256 * b + 32 * sub, ab = t * subBlocks + 8 * b + sub;
                    long runs = values + 32L * G * sub;
                    // positions p, p + 8, p + 16, p + 24 side by side: four independent chains of 16-bit sums
                    ShortVector e0 = ShortVector.zero(S), e1 = e0, e2 = e0, e3 = e0;
                    for (int p = 0; p < 8; p++) {
                        e0 = ((ShortVector) ByteVector.fromMemorySegment(B, groups, runs + (long) G * p, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0))
                                .mul(q[ai + p]).add(e0);
                        e1 = ((ShortVector) ByteVector.fromMemorySegment(B, groups, runs + (long) G * (p + 8), LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0))
                                .mul(q[ai + p + 8]).add(e1);
                        e2 = ((ShortVector) ByteVector.fromMemorySegment(B, groups, runs + (long) G * (p + 16), LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0))
                                .mul(q[ai + p + 16]).add(e2);
                        e3 = ((ShortVector) ByteVector.fromMemorySegment(B, groups, runs + (long) G * (p + 24), LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0))
                                .mul(q[ai + p + 24]).add(e3);
                    }
                    IntVector sum0 = ((IntVector) e0.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) e1.convertShape(VectorOperators.S2I, I, 0))
                            .add((IntVector) e2.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) e3.convertShape(VectorOperators.S2I, I, 0));
                    IntVector sum1 = ((IntVector) e0.convertShape(VectorOperators.S2I, I, 1)).add((IntVector) e1.convertShape(VectorOperators.S2I, I, 1))
                            .add((IntVector) e2.convertShape(VectorOperators.S2I, I, 1)).add((IntVector) e3.convertShape(VectorOperators.S2I, I, 1));
                    long scales = at + 8L * G + 2L * G * sub, mins = scales + G;
                    IntVector sc0 = (IntVector) ByteVector.fromMemorySegment(BH, groups, scales, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector sc1 = (IntVector) ByteVector.fromMemorySegment(BH, groups, scales + half, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    FloatVector m0 = (FloatVector) ByteVector.fromMemorySegment(BH, groups, mins, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0).convert(VectorOperators.I2F, 0);
                    FloatVector m1 = (FloatVector) ByteVector.fromMemorySegment(BH, groups, mins + half, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0).convert(VectorOperators.I2F, 0);
                    FloatVector step = FloatVector.broadcast(F, a.d[ab]), stepSum = FloatVector.broadcast(F, a.d[ab] * a.sum[ab]);
                    scaled0 = ((FloatVector) sum0.mul(sc0).convert(VectorOperators.I2F, 0)).fma(step, scaled0);
                    scaled1 = ((FloatVector) sum1.mul(sc1).convert(VectorOperators.I2F, 0)).fma(step, scaled1);
                    mins0 = m0.fma(stepSum, mins0);
                    mins1 = m1.fma(stepSum, mins1);
                }
                FloatVector d0 = FloatVector.fromMemorySegment(F, groups, at, LE), d1 = FloatVector.fromMemorySegment(F, groups, at + 4L * half, LE);
                FloatVector dmin0 = FloatVector.fromMemorySegment(F, groups, at + 4L * G, LE), dmin1 = FloatVector.fromMemorySegment(F, groups, at + 4L * G + 4L * half, LE);
                acc0 = dmin0.neg().fma(mins0, d0.fma(scaled0, acc0));
                acc1 = dmin1.neg().fma(mins1, d1.fma(scaled1, acc1));
            }
            int o = outOff + g * G - first;
            acc0.intoArray(out, o);
            acc1.intoArray(out, o + half);
        }
    }

    /**
     * Q6_K, from its unpacked values: per sub-block of 16, two 16-bit sums of 8 positions (at most
     * 8·32·127), widened and multiplied by the rows' signed scales; the two sub-blocks of an
     * activation block of 32 added as ints (at most 2·16·32·127·128 < 2^24, so their float is exact),
     * then times the activations' step, and per row by d.
     */
    private static void multiplyQ6_K(MemorySegment groups, int first, int count, int cols, Q8Activations a, int t, float[] out, int outOff) {
        int blocks = cols / 256, half = G / 2, blockBytes = blockBytes(GgmlType.Q6_K), steps = cols / 32;
        short[] q = a.q;
        for (int g = first / G; g < (first + count) / G; g++) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
            long base = (long) g * blocks * blockBytes;
            for (int b = 0; b < blocks; b++) {
                long at = base + (long) b * blockBytes, values = at + (long) Q6_K_VALUES * G;
                FloatVector scaled0 = FloatVector.zero(F), scaled1 = scaled0;
                for (int c = 0; c < 8; c++) { // activation block c: sub-blocks 2c and 2c + 1
                    IntVector sum0 = IntVector.zero(I), sum1 = sum0;
                    for (int h = 0; h < 2; h++) {
                        int sub = 2 * c + h, ai = t * cols + 256 * b + 16 * sub;
                        long runs = values + 16L * G * sub;
                        ShortVector first8 = ShortVector.zero(S), last8 = first8; // positions p and p + 8: two independent chains
                        for (int p = 0; p < 8; p++) {
                            first8 = ((ShortVector) ByteVector.fromMemorySegment(B, groups, runs + (long) G * p, LE).convertShape(VectorOperators.B2S, S, 0))
                                    .mul(q[ai + p]).add(first8);
                            last8 = ((ShortVector) ByteVector.fromMemorySegment(B, groups, runs + (long) G * (p + 8), LE).convertShape(VectorOperators.B2S, S, 0))
                                    .mul(q[ai + p + 8]).add(last8);
                        }
                        long scales = at + 4L * G + (long) G * sub;
                        IntVector sc0 = (IntVector) ByteVector.fromMemorySegment(BH, groups, scales, LE).convertShape(VectorOperators.B2I, I, 0);
                        IntVector sc1 = (IntVector) ByteVector.fromMemorySegment(BH, groups, scales + half, LE).convertShape(VectorOperators.B2I, I, 0);
                        IntVector w0 = ((IntVector) first8.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) last8.convertShape(VectorOperators.S2I, I, 0));
                        IntVector w1 = ((IntVector) first8.convertShape(VectorOperators.S2I, I, 1)).add((IntVector) last8.convertShape(VectorOperators.S2I, I, 1));
                        sum0 = w0.mul(sc0).add(sum0);
                        sum1 = w1.mul(sc1).add(sum1);
                    }
                    FloatVector step = FloatVector.broadcast(F, a.d[t * steps + 8 * b + c]);
                    scaled0 = ((FloatVector) sum0.convert(VectorOperators.I2F, 0)).fma(step, scaled0);
                    scaled1 = ((FloatVector) sum1.convert(VectorOperators.I2F, 0)).fma(step, scaled1);
                }
                acc0 = FloatVector.fromMemorySegment(F, groups, at, LE).fma(scaled0, acc0);
                acc1 = FloatVector.fromMemorySegment(F, groups, at + 4L * half, LE).fma(scaled1, acc1);
            }
            int o = outOff + g * G - first;
            acc0.intoArray(out, o);
            acc1.intoArray(out, o + half);
        }
    }

    /**
     * The scalar twin of {@link #multiply}, from the file's own {@code type} rows at {@code seg} (not
     * the interleaved copy): {@code out[outOff + r − first]} for r in [first, first + count).
     */
    public static void multiplyScalar(GgmlType type, MemorySegment seg, int first, int count, int cols, Q8Activations a, int t, float[] out, int outOff) {
        if (type == GgmlType.Q4_K || type == GgmlType.Q5_K) {
            multiplyScalarScaleMin(type, seg, first, count, cols, a, t, out, outOff);
            return;
        }
        if (type == GgmlType.Q6_K) {
            multiplyScalarQ6_K(seg, first, count, cols, a, t, out, outOff);
            return;
        }
        long rowBytes = type.rowBytes(cols);
        int blocks = cols / 32;
        for (int r = first; r < first + count; r++) {
            float acc = 0f;
            for (int b = 0; b < blocks; b++) {
                long at = r * rowBytes + (long) type.blockBytes * b;
                int sum = 0;
                for (int j = 0; j < type.blockBytes - 2; j++) {
                    int quant = seg.get(ValueLayout.JAVA_BYTE, at + 2 + j);
                    if (type == GgmlType.Q8_0) sum += quant * a.value(t, 32 * b + j);
                    else sum += ((quant & 15) - 8) * a.value(t, 32 * b + j) + (((quant & 0xFF) >> 4) - 8) * a.value(t, 32 * b + j + 16);
                }
                acc = Math.fma(sum * a.step(t, b), Float.float16ToFloat(seg.get(SHORT_LE, at)), acc);
            }
            out[outOff + r - first] = acc;
        }
    }

    /** The scalar twin for Q4_K and Q5_K, whose sub-blocks of 32 carry a 6-bit scale and minimum. */
    private static void multiplyScalarScaleMin(GgmlType type, MemorySegment seg, int first, int count, int cols, Q8Activations a, int t, float[] out, int outOff) {
        long rowBytes = type.rowBytes(cols);
        for (int r = first; r < first + count; r++) {
            float acc = 0f;
            for (int b = 0; b < cols / 256; b++) {
                long at = r * rowBytes + (long) type.blockBytes * b;
                float scaled = 0f, mins = 0f;
                for (int sub = 0; sub < 8; sub++) {
                    int sum = 0, sumA = 0;
                    for (int l = 0; l < 32; l++) {
                        int v = 32 * sub + l, quant = type == GgmlType.Q5_K ? QuantScalar.q5kQuant(seg, at, v) : QuantScalar.q4kQuant(seg, at, v);
                        int x = a.value(t, 256 * b + v);
                        sum += quant * x;
                        sumA += x;
                    }
                    float step = a.step(t, 8 * b + sub);
                    scaled = Math.fma((float) (sum * QuantScalar.q4kScale(seg, at + 4, sub)), step, scaled);
                    mins = Math.fma((float) QuantScalar.q4kMin(seg, at + 4, sub), step * sumA, mins);
                }
                float d = Float.float16ToFloat(seg.get(SHORT_LE, at)), dmin = Float.float16ToFloat(seg.get(SHORT_LE, at + 2));
                acc = Math.fma(-dmin, mins, Math.fma(d, scaled, acc));
            }
            out[outOff + r - first] = acc;
        }
    }

    private static void multiplyScalarQ6_K(MemorySegment seg, int first, int count, int cols, Q8Activations a, int t, float[] out, int outOff) {
        long rowBytes = GgmlType.Q6_K.rowBytes(cols);
        for (int r = first; r < first + count; r++) {
            float acc = 0f;
            for (int b = 0; b < cols / 256; b++) {
                long at = r * rowBytes + 210L * b;
                float scaled = 0f;
                for (int c = 0; c < 8; c++) {
                    int sum = 0;
                    for (int sub = 2 * c; sub < 2 * c + 2; sub++) {
                        int products = 0;
                        for (int p = 0; p < 16; p++) products += QuantScalar.q6kQuant(seg, at, 16 * sub + p) * a.value(t, 256 * b + 16 * sub + p);
                        sum += products * QuantScalar.q6kScale(seg, at, sub);
                    }
                    scaled = Math.fma((float) sum, a.step(t, 8 * b + c), scaled);
                }
                acc = Math.fma(Float.float16ToFloat(seg.get(SHORT_LE, at + 208)), scaled, acc);
            }
            out[outOff + r - first] = acc;
        }
    }
}
