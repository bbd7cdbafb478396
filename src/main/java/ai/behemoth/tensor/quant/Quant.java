package ai.behemoth.tensor.quant;

import ai.behemoth.tensor.VectorMath;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
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
 * quants as {@code L} bytes at a time, widened to floats. A dot product keeps one vector of partial
 * sums per sub-block and folds it into the accumulator with the sub-block's scale, so the scales
 * are applied once per {@code L} values rather than once per value. Dequantisation computes every
 * value with the same float operations as the twin, so it matches it bit for bit. Lanes are summed
 * with {@link VectorMath#sumLanes}, in lane order, not {@code reduceLanes(ADD)}, whose order differs
 * between the interpreter and compiled code: a dot product keeps its bits while the JIT warms up.
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

    /** Σ row[i]·x[xOff + i] over the {@code n} values of the row at {@code seg + off}. */
    public static float dot(GgmlType type, MemorySegment seg, long off, float[] x, int xOff, int n) {
        type.rowBytes(n);
        return switch (type) {
            case F32 -> dotF32(seg, off, x, xOff, n);
            case F16 -> dotF16(seg, off, x, xOff, n);
            case BF16 -> dotBF16(seg, off, x, xOff, n);
            case Q8_0 -> dotQ8_0(seg, off, x, xOff, n);
            case Q4_0 -> dotQ4_0(seg, off, x, xOff, n);
            case Q4_K -> dotQ4_K(seg, off, x, xOff, n);
            case Q5_K -> dotQ5_K(seg, off, x, xOff, n);
            case Q6_K -> dotQ6_K(seg, off, x, xOff, n);
        };
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

    private static float dotF32(MemorySegment seg, long off, float[] x, int xOff, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            acc0 = FloatVector.fromMemorySegment(F, seg, off + 4L * i, LE).fma(FloatVector.fromArray(F, x, xOff + i), acc0);
            acc1 = FloatVector.fromMemorySegment(F, seg, off + 4L * (i + L), LE).fma(FloatVector.fromArray(F, x, xOff + i + L), acc1);
        }
        return VectorMath.sumLanes(acc0.add(acc1)) + QuantScalar.dot(GgmlType.F32, seg, off + 4L * i, x, xOff + i, n - i);
    }

    private static float dotF16(MemorySegment seg, long off, float[] x, int xOff, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            acc0 = halfToFloat(ShortVector.fromMemorySegment(S, seg, off + 2L * i, LE)).fma(FloatVector.fromArray(F, x, xOff + i), acc0);
            acc1 = halfToFloat(ShortVector.fromMemorySegment(S, seg, off + 2L * (i + L), LE)).fma(FloatVector.fromArray(F, x, xOff + i + L), acc1);
        }
        return VectorMath.sumLanes(acc0.add(acc1)) + QuantScalar.dot(GgmlType.F16, seg, off + 2L * i, x, xOff + i, n - i);
    }

    private static float dotBF16(MemorySegment seg, long off, float[] x, int xOff, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            acc0 = bf16ToFloat(ShortVector.fromMemorySegment(S, seg, off + 2L * i, LE)).fma(FloatVector.fromArray(F, x, xOff + i), acc0);
            acc1 = bf16ToFloat(ShortVector.fromMemorySegment(S, seg, off + 2L * (i + L), LE)).fma(FloatVector.fromArray(F, x, xOff + i + L), acc1);
        }
        return VectorMath.sumLanes(acc0.add(acc1)) + QuantScalar.dot(GgmlType.BF16, seg, off + 2L * i, x, xOff + i, n - i);
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

    private static float dotQ8_0(MemorySegment seg, long off, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long at = off + 34L * b;
            int xi = xOff + 32 * b;
            FloatVector sum = FloatVector.zero(F);
            for (int k = 0; k < 32; k += L) {
                FloatVector q = (FloatVector) ByteVector.fromMemorySegment(B, seg, at + 2 + k, LE).castShape(F, 0);
                sum = q.fma(FloatVector.fromArray(F, x, xi + k), sum);
            }
            acc = sum.fma(FloatVector.broadcast(F, QuantScalar.half(seg, at)), acc);
        }
        return VectorMath.sumLanes(acc);
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

    private static float dotQ4_0(MemorySegment seg, long off, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long at = off + 18L * b;
            int xi = xOff + 32 * b;
            FloatVector sum = FloatVector.zero(F);
            for (int k = 0; k < 16; k += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, seg, at + 2 + k, LE);
                sum = ((FloatVector) q.and((byte) 15).sub((byte) 8).castShape(F, 0)).fma(FloatVector.fromArray(F, x, xi + k), sum);
                sum = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).castShape(F, 0)).fma(FloatVector.fromArray(F, x, xi + 16 + k), sum);
            }
            acc = sum.fma(FloatVector.broadcast(F, QuantScalar.half(seg, at)), acc);
        }
        return VectorMath.sumLanes(acc);
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
     * are kept as vectors and folded in with their scalar factors. The 12 bytes of packed scales are
     * read once per super-block as a long and an int.
     */
    private static float dotQ4_K(MemorySegment seg, long off, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            long at = off + 144L * b, qs = at + 16;
            float d = QuantScalar.half(seg, at), dmin = QuantScalar.half(seg, at + 2);
            long scales0to7 = seg.get(LONG_LE, at + 4);
            int scales8to11 = seg.get(INT_LE, at + 12);
            int xi = xOff + 256 * b;
            for (int j = 0; j < 4; j++) {
                FloatVector qaLow = FloatVector.zero(F), aLow = FloatVector.zero(F);
                FloatVector qaHigh = FloatVector.zero(F), aHigh = FloatVector.zero(F);
                for (int k = 0; k < 32; k += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, seg, qs + 32 * j + k, LE);
                    FloatVector a0 = FloatVector.fromArray(F, x, xi + 64 * j + k);
                    FloatVector a1 = FloatVector.fromArray(F, x, xi + 64 * j + 32 + k);
                    qaLow = ((FloatVector) q.and((byte) 15).castShape(F, 0)).fma(a0, qaLow);
                    aLow = aLow.add(a0);
                    qaHigh = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).castShape(F, 0)).fma(a1, qaHigh);
                    aHigh = aHigh.add(a1);
                }
                acc = qaLow.fma(FloatVector.broadcast(F, d * q4kScale(scales0to7, scales8to11, 2 * j)), acc);
                acc = aLow.fma(FloatVector.broadcast(F, -dmin * q4kMin(scales0to7, scales8to11, 2 * j)), acc);
                acc = qaHigh.fma(FloatVector.broadcast(F, d * q4kScale(scales0to7, scales8to11, 2 * j + 1)), acc);
                acc = aHigh.fma(FloatVector.broadcast(F, -dmin * q4kMin(scales0to7, scales8to11, 2 * j + 1)), acc);
            }
        }
        return VectorMath.sumLanes(acc);
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

    private static float dotQ6_K(MemorySegment seg, long off, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            long at = off + 210L * b;
            float d = QuantScalar.half(seg, at + 208);
            for (int h = 0; h < 2; h++) {
                long ql = at + 64 * h, qh = at + 128 + 32 * h, sc = at + 192 + 8 * h;
                int xi = xOff + 256 * b + 128 * h;
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
                    acc = ((FloatVector) q0.castShape(F, 0)).mul(FloatVector.fromArray(F, x, xi + l))
                            .fma(FloatVector.broadcast(F, d * seg.get(ValueLayout.JAVA_BYTE, is)), acc);
                    acc = ((FloatVector) q1.castShape(F, 0)).mul(FloatVector.fromArray(F, x, xi + 32 + l))
                            .fma(FloatVector.broadcast(F, d * seg.get(ValueLayout.JAVA_BYTE, is + 2)), acc);
                    acc = ((FloatVector) q2.castShape(F, 0)).mul(FloatVector.fromArray(F, x, xi + 64 + l))
                            .fma(FloatVector.broadcast(F, d * seg.get(ValueLayout.JAVA_BYTE, is + 4)), acc);
                    acc = ((FloatVector) q3.castShape(F, 0)).mul(FloatVector.fromArray(F, x, xi + 96 + l))
                            .fma(FloatVector.broadcast(F, d * seg.get(ValueLayout.JAVA_BYTE, is + 6)), acc);
                }
            }
        }
        return VectorMath.sumLanes(acc);
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

    /** One row through the four-row kernel {@link #dot4Q5_K}. */
    private static float dotQ5_K(MemorySegment seg, long off, float[] x, int xOff, int n) {
        float[] result = new float[1];
        dot4Q5_K(seg, off, 0, 1, x, xOff, n, result, 0);
        return result[0];
    }

    /**
     * The lane sums of the first {@code count} of {@code a, b, c, d} into {@code out[at..at+count)},
     * each by {@link VectorMath#sumLanes}, so a row's bits do not depend on the rows beside it.
     */
    private static void sum4(FloatVector a, FloatVector b, FloatVector c, FloatVector d, float[] out, int at, int count) {
        out[at] = VectorMath.sumLanes(a);
        if (count > 1) out[at + 1] = VectorMath.sumLanes(b);
        if (count > 2) out[at + 2] = VectorMath.sumLanes(c);
        if (count > 3) out[at + 3] = VectorMath.sumLanes(d);
    }

    /**
     * Q5_K on the {@code count} (1..4) rows at {@code first + r·stride}: as Q4_K, Σ x·a =
     * d·sc·Σ q·a − dmin·m·Σ a per sub-block, with q = nibble + 16·(its bit of qh). Value l of the 64
     * values of pair j takes bit 2j (low nibble, first sub-block) or 2j+1 (high nibble) of qh[l]; the
     * qh bytes are sign-extended into int lanes, so each bit is shifted down and masked with 1.
     */
    private static void dot4Q5_K(MemorySegment seg, long first, long stride, int count, float[] x, int xOff, int n, float[] out, int outAt) {
        FloatVector row0 = FloatVector.zero(F), row1 = row0, row2 = row0, row3 = row0;
        for (int r = 0; r < count; r++) {
            long off = first + r * stride;
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0; // the q·a terms, the a terms: two FMA chains
            for (int b = 0; b < n / 256; b++) {
                long at = off + 176L * b, qh = at + 16, qs = at + 48;
                float d = QuantScalar.half(seg, at), dmin = QuantScalar.half(seg, at + 2);
                int xi = xOff + 256 * b;
                for (int j = 0; j < 4; j++) {
                    float scaleLow = d * QuantScalar.q4kScale(seg, at + 4, 2 * j), scaleHigh = d * QuantScalar.q4kScale(seg, at + 4, 2 * j + 1);
                    float minLow = -dmin * QuantScalar.q4kMin(seg, at + 4, 2 * j), minHigh = -dmin * QuantScalar.q4kMin(seg, at + 4, 2 * j + 1);
                    FloatVector qaLow = FloatVector.zero(F), aLow = FloatVector.zero(F);
                    FloatVector qaHigh = FloatVector.zero(F), aHigh = FloatVector.zero(F);
                    for (int k = 0; k < 32; k += L) {
                        IntVector q = (IntVector) ByteVector.fromMemorySegment(B, seg, qs + 32 * j + k, LE).castShape(I, 0);
                        IntVector h = ((IntVector) ByteVector.fromMemorySegment(B, seg, qh + k, LE).castShape(I, 0)).lanewise(VectorOperators.ASHR, 2 * j);
                        IntVector q5Low = q.and(15).or(h.and(1).lanewise(VectorOperators.LSHL, 4));
                        IntVector q5High = q.lanewise(VectorOperators.ASHR, 4).and(15).or(h.and(2).lanewise(VectorOperators.LSHL, 3));
                        FloatVector a0 = FloatVector.fromArray(F, x, xi + 64 * j + k);
                        FloatVector a1 = FloatVector.fromArray(F, x, xi + 64 * j + 32 + k);
                        qaLow = ((FloatVector) q5Low.castShape(F, 0)).fma(a0, qaLow);
                        aLow = aLow.add(a0);
                        qaHigh = ((FloatVector) q5High.castShape(F, 0)).fma(a1, qaHigh);
                        aHigh = aHigh.add(a1);
                    }
                    acc0 = qaLow.fma(FloatVector.broadcast(F, scaleLow), acc0);
                    acc1 = aLow.fma(FloatVector.broadcast(F, minLow), acc1);
                    acc0 = qaHigh.fma(FloatVector.broadcast(F, scaleHigh), acc0);
                    acc1 = aHigh.fma(FloatVector.broadcast(F, minHigh), acc1);
                }
            }
            FloatVector acc = acc0.add(acc1);
            if (r == 0) row0 = acc; else if (r == 1) row1 = acc; else if (r == 2) row2 = acc; else row3 = acc;
        }
        sum4(row0, row1, row2, row3, out, outAt, count);
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
