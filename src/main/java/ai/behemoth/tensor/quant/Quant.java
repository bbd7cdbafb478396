package ai.behemoth.tensor.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Rows of any {@link GgmlType} held in memory segments (heap or mapped files): dot products with
 * float vectors, dequantisation and quantisation. Offsets are in bytes, counts in values.
 *
 * <p>PLACEHOLDER: F32/F16/BF16 in plain loops; the quantised types and the Vector API kernels
 * (with {@code QuantScalar} as their twin) replace these bodies.
 */
public final class Quant {
    private Quant() {}

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Σ row[i]·x[xOff + i] over the {@code n} values of the row at {@code seg + off}. */
    public static float dot(GgmlType type, MemorySegment seg, long off, float[] x, int xOff, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) s += value(type, seg, off, i) * x[xOff + i];
        return s;
    }

    /** Writes the {@code n} values of the row at {@code seg + off} as floats into {@code out}. */
    public static void dequantize(GgmlType type, MemorySegment seg, long off, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = value(type, seg, off, i);
    }

    /** Encodes {@code n} floats as one row of {@code type} at {@code dst + dstOff}. */
    public static void quantize(GgmlType type, float[] src, int srcOff, int n, MemorySegment dst, long dstOff) {
        for (int i = 0; i < n; i++) {
            float v = src[srcOff + i];
            switch (type) {
                case F32 -> dst.set(F32, dstOff + 4L * i, v);
                case F16 -> dst.set(I16, dstOff + 2L * i, Float.floatToFloat16(v));
                case BF16 -> dst.set(I16, dstOff + 2L * i, (short) (Float.floatToRawIntBits(v) >>> 16));
                default -> throw new UnsupportedOperationException("quantising to " + type + " is not built yet");
            }
        }
    }

    private static float value(GgmlType type, MemorySegment seg, long off, int i) {
        return switch (type) {
            case F32 -> seg.get(F32, off + 4L * i);
            case F16 -> Float.float16ToFloat(seg.get(I16, off + 2L * i));
            case BF16 -> Float.intBitsToFloat((seg.get(I16, off + 2L * i) & 0xffff) << 16);
            default -> throw new UnsupportedOperationException(type + " rows are not built yet");
        };
    }
}
