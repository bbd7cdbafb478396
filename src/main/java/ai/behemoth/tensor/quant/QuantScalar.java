package ai.behemoth.tensor.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The plain-loop twin of {@link Quant}: same signatures, one value at a time, block layouts spelled
 * out as ggml defines them ({@code ggml-common.h}). The tests compare the Vector API kernels with it,
 * and {@link Quant#quantize} uses its reference quantisers (which ggml also keeps scalar so that
 * model files come out the same on every machine).
 *
 * <p>Block layouts (little-endian, {@code half} = IEEE binary16):
 * <pre>
 * Q8_0  32 values, 34 bytes:  half d; int8 q[32]                      x = d·q
 * Q4_0  32 values, 18 bytes:  half d; uint8 qs[16]                    x[j] = d·((qs[j] &amp; 15) − 8), x[j+16] = d·((qs[j] &gt;&gt; 4) − 8)
 * Q4_K 256 values, 144 bytes: half d, dmin; uint8 scales[12]; uint8 qs[128]
 *      8 sub-blocks of 32 with 6-bit scale sc and min m packed in scales; per 64 values, 32 bytes of qs
 *      hold the first sub-block in low nibbles and the second in high nibbles: x = d·sc·q − dmin·m
 * Q5_K 256 values, 176 bytes: half d, dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]
 *      as Q4_K, with a fifth bit (+16) for value l of sub-block s in bit s of qh[l] (see {@link #q5k})
 * Q6_K 256 values, 210 bytes: uint8 ql[128]; uint8 qh[64]; int8 scales[16]; half d
 *      16 sub-blocks of 16 with an 8-bit signed scale; q = (4 low bits from ql | 2 high bits from qh) − 32,
 *      x = d·scale·q; each half of 128 values uses 64 bytes of ql and 32 of qh (see {@link #q6k}).
 * </pre>
 */
public final class QuantScalar {
    private QuantScalar() {}

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Σ row[i]·x[xOff + i] over the {@code n} values of the row at {@code seg + off}. */
    public static float dot(GgmlType type, MemorySegment seg, long off, float[] x, int xOff, int n) {
        type.rowBytes(n);
        float[] block = new float[type.blockSize];
        float s = 0;
        for (int b = 0; b < n / type.blockSize; b++) {
            dequantizeBlock(type, seg, off + (long) b * type.blockBytes, block, 0);
            for (int j = 0; j < block.length; j++) s += block[j] * x[xOff + b * type.blockSize + j];
        }
        return s;
    }

    /** Writes the {@code n} values of the row at {@code seg + off} as floats into {@code out}. */
    public static void dequantize(GgmlType type, MemorySegment seg, long off, float[] out, int outOff, int n) {
        type.rowBytes(n);
        for (int b = 0; b < n / type.blockSize; b++)
            dequantizeBlock(type, seg, off + (long) b * type.blockBytes, out, outOff + b * type.blockSize);
    }

    /**
     * Encodes {@code n} floats as one row of {@code type} at {@code dst + dstOff}, as ggml's reference
     * quantisers do: F16 and BF16 round to nearest even, Q8_0 and Q4_0 as {@code quantize_row_*_ref}.
     */
    public static void quantize(GgmlType type, float[] src, int srcOff, int n, MemorySegment dst, long dstOff) {
        type.rowBytes(n);
        for (int b = 0; b < n / type.blockSize; b++) {
            int from = srcOff + b * type.blockSize;
            long at = dstOff + (long) b * type.blockBytes;
            switch (type) {
                case F32 -> dst.set(F32, at, src[from]);
                case F16 -> dst.set(I16, at, Float.floatToFloat16(src[from]));
                case BF16 -> dst.set(I16, at, floatToBf16(src[from]));
                case Q8_0 -> quantizeQ8_0(src, from, dst, at);
                case Q4_0 -> quantizeQ4_0(src, from, dst, at);
                default -> throw new UnsupportedOperationException("quantising to " + type + " is not supported (use Q8_0 or Q4_0)");
            }
        }
    }

    static float half(MemorySegment seg, long off) {
        return Float.float16ToFloat(seg.get(I16, off));
    }

    /** bfloat16 of {@code v}, rounded to nearest even; a NaN stays a (quiet) NaN, as ggml does. */
    static short floatToBf16(float v) {
        int u = Float.floatToRawIntBits(v);
        if ((u & 0x7fffffff) > 0x7f800000) return (short) ((u >>> 16) | 64);
        return (short) ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16);
    }

    private static void dequantizeBlock(GgmlType type, MemorySegment seg, long at, float[] out, int o) {
        switch (type) {
            case F32 -> out[o] = seg.get(F32, at);
            case F16 -> out[o] = half(seg, at);
            case BF16 -> out[o] = Float.intBitsToFloat((seg.get(I16, at) & 0xffff) << 16);
            case Q8_0 -> {
                float d = half(seg, at);
                for (int j = 0; j < 32; j++) out[o + j] = seg.get(ValueLayout.JAVA_BYTE, at + 2 + j) * d;
            }
            case Q4_0 -> {
                float d = half(seg, at);
                for (int j = 0; j < 16; j++) {
                    int q = ubyte(seg, at + 2 + j);
                    out[o + j] = ((q & 15) - 8) * d;
                    out[o + j + 16] = ((q >>> 4) - 8) * d;
                }
            }
            case Q4_K -> q4k(seg, at, out, o);
            case Q5_K -> q5k(seg, at, out, o);
            case Q6_K -> q6k(seg, at, out, o);
        }
    }

    private static void q4k(MemorySegment seg, long at, float[] out, int o) {
        float d = half(seg, at), dmin = half(seg, at + 2);
        for (int s = 0; s < 8; s++) {
            float ds = d * q4kScale(seg, at + 4, s), ms = dmin * q4kMin(seg, at + 4, s);
            for (int l = 0; l < 32; l++) out[o + 32 * s + l] = ds * q4kQuant(seg, at, 32 * s + l) - ms;
        }
    }

    /**
     * The 6-bit scale of Q4_K sub-block {@code s} (0..7). Bytes 0..3 hold scales 0..3 in their low
     * 6 bits, bytes 4..7 mins 0..3; scales and mins 4..7 take 4 low bits from bytes 8..11 and their
     * 2 high bits from the top of bytes 0..3 (scales) and 4..7 (mins).
     */
    static int q4kScale(MemorySegment seg, long scales, int s) {
        if (s < 4) return ubyte(seg, scales + s) & 63;
        return (ubyte(seg, scales + s + 4) & 15) | ((ubyte(seg, scales + s - 4) >>> 6) << 4);
    }

    /** The 6-bit min of Q4_K sub-block {@code s} (0..7); see {@link #q4kScale}. */
    static int q4kMin(MemorySegment seg, long scales, int s) {
        if (s < 4) return ubyte(seg, scales + s + 4) & 63;
        return (ubyte(seg, scales + s + 4) >>> 4) | ((ubyte(seg, scales + s) >>> 6) << 4);
    }

    /**
     * Q6_K: for each half h of 128 values, with ql = 64 bytes, qh = 32 bytes and 8 scales of that half,
     * and l in 0..31: value l takes ql[l] low nibble, l+32 ql[l+32] low, l+64 ql[l] high, l+96 ql[l+32]
     * high; their two high bits are bits 0-1, 2-3, 4-5, 6-7 of qh[l]; scales: l/16 + 0, 2, 4, 6.
     */
    private static void q6k(MemorySegment seg, long at, float[] out, int o) {
        float d = half(seg, at + 208);
        for (int v = 0; v < 256; v++) out[o + v] = d * q6kScale(seg, at, v / 16) * q6kQuant(seg, at, v);
    }

    /**
     * Value {@code v} (0..255) of the Q6_K block at {@code at} as q − 32: in each half of 128 values,
     * value l + 32k (l < 32) takes its 4 low bits from ql[l + 32·(k mod 2)] (the low nibble for k < 2,
     * the high one after) and its 2 high bits from bits 2k, 2k+1 of qh[l].
     */
    static int q6kQuant(MemorySegment seg, long at, int v) {
        int h = v / 128, k = v % 128 / 32, l = v % 32;
        int low = ubyte(seg, at + 64 * h + 32 * (k % 2) + l), high = ubyte(seg, at + 128 + 32 * h + l);
        int nibble = k < 2 ? low & 15 : low >>> 4;
        return (nibble | (((high >>> (2 * k)) & 3) << 4)) - 32;
    }

    /** The signed 8-bit scale of Q6_K sub-block {@code s} (0..15: values 16s..16s+15). */
    static int q6kScale(MemorySegment seg, long at, int s) {
        return seg.get(ValueLayout.JAVA_BYTE, at + 192 + s);
    }

    /** ggml's quantize_row_q8_0_ref: d = amax/127, q = round(x/d) with halves away from zero. */
    private static void quantizeQ8_0(float[] x, int from, MemorySegment dst, long at) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[from + j]));
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        dst.set(I16, at, Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) roundHalfAway(x[from + j] * id));
    }

    /**
     * ggml's quantize_row_q4_0_ref: d = (the value of largest magnitude, with its sign) / −8, so that
     * value maps to q = 0; q = min(15, (int)(x/d + 8.5)), value j in the low nibble of byte j and
     * value j+16 in its high nibble.
     */
    private static void quantizeQ4_0(float[] x, int from, MemorySegment dst, long at) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[from + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        dst.set(I16, at, Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            float x0 = x[from + j] * id, x1 = x[from + 16 + j] * id;
            int q0 = Math.min(15, (int) (x0 + 8.5f)), q1 = Math.min(15, (int) (x1 + 8.5f));
            dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) (q0 | (q1 << 4)));
        }
    }

    /** C's roundf: the nearest integer, halves away from zero (exact in double). */
    private static int roundHalfAway(float v) {
        double r = Math.floor(Math.abs((double) v) + 0.5);
        return (int) (v < 0 ? -r : r);
    }

    /**
     * Q5_K: Q4_K's scales, mins and nibbles, plus a high bit per value: for the 64 values of
     * sub-blocks 2j (low nibbles) and 2j+1 (high nibbles), value l's fifth bit is bit 2j, resp.
     * 2j+1, of qh[l]; x = d·sc·(q + 16·bit) − dmin·m.
     */
    private static void q5k(MemorySegment seg, long at, float[] out, int o) {
        float d = half(seg, at), dmin = half(seg, at + 2);
        for (int s = 0; s < 8; s++) {
            float ds = d * q4kScale(seg, at + 4, s), ms = dmin * q4kMin(seg, at + 4, s);
            for (int l = 0; l < 32; l++) out[o + 32 * s + l] = ds * q5kQuant(seg, at, 32 * s + l) - ms;
        }
    }

    /** The 4-bit quant (0..15) of value {@code v} (0..255) of the Q4_K block at {@code at}: sub-block 2j in the low nibbles of qs[32j..], 2j + 1 in the high ones. */
    static int q4kQuant(MemorySegment seg, long at, int v) {
        int s = v / 32, q = ubyte(seg, at + 16 + 32 * (s / 2) + v % 32);
        return s % 2 == 0 ? q & 15 : q >>> 4;
    }

    /**
     * The 5-bit quant (0..31) of value {@code v} (0..255) of the Q5_K block at {@code at}: its 4 low
     * bits as Q4_K's (sub-block 2j in the low nibbles of qs[32j..], 2j + 1 in the high ones), its fifth
     * from bit s of qh[v mod 32], s = v/32 its sub-block.
     */
    static int q5kQuant(MemorySegment seg, long at, int v) {
        int s = v / 32, l = v % 32, q = ubyte(seg, at + 48 + 32 * (s / 2) + l);
        return (s % 2 == 0 ? q & 15 : q >>> 4) | (((ubyte(seg, at + 16 + l) >>> s) & 1) << 4);
    }

    static int ubyte(MemorySegment seg, long at) {
        return seg.get(ValueLayout.JAVA_BYTE, at) & 0xff;
    }
}
