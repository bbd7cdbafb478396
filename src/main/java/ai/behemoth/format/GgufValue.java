package ai.behemoth.format;

import java.util.List;

/**
 * One GGUF metadata value with its exact type, so that a file read and written again keeps it.
 * Java holds it as: UINT8, INT8, UINT16, INT16, INT32 → {@link Integer} (unsigned ones as their
 * non-negative value); UINT32, INT64, UINT64 → {@link Long} (UINT64 as its bit pattern); FLOAT32 →
 * {@link Float}; FLOAT64 → {@link Double}; BOOL → {@link Boolean}; STRING → {@link String}; ARRAY →
 * {@link GgufArray}.
 */
public record GgufValue(GgufValueType type, Object value) {
    public GgufValue {
        check(type, value);
    }

    public static GgufValue uint8(int v) { return new GgufValue(GgufValueType.UINT8, v); }
    public static GgufValue int8(int v) { return new GgufValue(GgufValueType.INT8, v); }
    public static GgufValue uint16(int v) { return new GgufValue(GgufValueType.UINT16, v); }
    public static GgufValue int16(int v) { return new GgufValue(GgufValueType.INT16, v); }
    public static GgufValue uint32(long v) { return new GgufValue(GgufValueType.UINT32, v); }
    public static GgufValue int32(int v) { return new GgufValue(GgufValueType.INT32, v); }
    public static GgufValue uint64(long v) { return new GgufValue(GgufValueType.UINT64, v); }
    public static GgufValue int64(long v) { return new GgufValue(GgufValueType.INT64, v); }
    public static GgufValue float32(float v) { return new GgufValue(GgufValueType.FLOAT32, v); }
    public static GgufValue float64(double v) { return new GgufValue(GgufValueType.FLOAT64, v); }
    public static GgufValue bool(boolean v) { return new GgufValue(GgufValueType.BOOL, v); }
    public static GgufValue string(String v) { return new GgufValue(GgufValueType.STRING, v); }

    public static GgufValue array(GgufValueType elementType, List<?> items) {
        return new GgufValue(GgufValueType.ARRAY, new GgufArray(elementType, items));
    }

    /** Throws IllegalArgumentException unless {@code value} is how this class holds a {@code type}. */
    static void check(GgufValueType type, Object value) {
        boolean ok = switch (type) {
            case UINT8 -> value instanceof Integer i && i >= 0 && i <= 0xff;
            case INT8 -> value instanceof Integer i && i >= Byte.MIN_VALUE && i <= Byte.MAX_VALUE;
            case UINT16 -> value instanceof Integer i && i >= 0 && i <= 0xffff;
            case INT16 -> value instanceof Integer i && i >= Short.MIN_VALUE && i <= Short.MAX_VALUE;
            case INT32 -> value instanceof Integer;
            case UINT32 -> value instanceof Long l && l >= 0 && l <= 0xffffffffL;
            case INT64, UINT64 -> value instanceof Long;
            case FLOAT32 -> value instanceof Float;
            case FLOAT64 -> value instanceof Double;
            case BOOL -> value instanceof Boolean;
            case STRING -> value instanceof String;
            case ARRAY -> value instanceof GgufArray;
        };
        if (!ok) throw new IllegalArgumentException("GGUF " + type + " cannot hold " + value
                + (value == null ? "" : " (" + value.getClass().getSimpleName() + ")"));
    }

    /** An integer value of any integer type, as a long. */
    public long asLong() {
        if (value instanceof Integer i) return i;
        if (value instanceof Long l) return l;
        throw new IllegalArgumentException("GGUF " + type + " value is not an integer");
    }

    /** A short description for people: the value, or for an array its type, length and first items. */
    public String describe(int firstItems) {
        if (!(value instanceof GgufArray a)) return show(type, value);
        StringBuilder sb = new StringBuilder("[").append(a.elementType()).append(" × ").append(a.size()).append("]");
        int shown = Math.min(firstItems, a.size());
        if (shown > 0) {
            sb.append(' ');
            for (int i = 0; i < shown; i++) {
                Object item = a.items().get(i);
                if (i > 0) sb.append(", ");
                sb.append(item instanceof GgufArray inner ? new GgufValue(GgufValueType.ARRAY, inner).describe(0) : show(a.elementType(), item));
            }
            if (shown < a.size()) sb.append(", …");
        }
        return sb.toString();
    }

    private static String show(GgufValueType type, Object v) {
        return switch (type) {
            case STRING -> quote((String) v);
            case UINT64 -> Long.toUnsignedString((Long) v);
            default -> String.valueOf(v);
        };
    }

    private static String quote(String s) {
        String shown = s.length() > 60 ? s.substring(0, 60) + "…" : s;
        return '"' + shown.replace("\\", "\\\\").replace("\n", "\\n").replace("\"", "\\\"") + '"';
    }
}
