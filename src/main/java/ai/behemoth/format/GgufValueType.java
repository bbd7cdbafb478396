package ai.behemoth.format;

/** The types of GGUF metadata values, numbered as in the GGUF specification ({@code gguf_type}). */
public enum GgufValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4),
    BOOL(7, 1), STRING(8, 8), ARRAY(9, 12), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    public final int id;
    /** Bytes a value of this type takes at least (a string's length field, an array's type and count). */
    public final int minBytes;

    GgufValueType(int id, int minBytes) {
        this.id = id;
        this.minBytes = minBytes;
    }

    /** The type with id {@code id}, or null when there is none. */
    public static GgufValueType ofId(long id) {
        for (GgufValueType t : values()) if (t.id == id) return t;
        return null;
    }
}
