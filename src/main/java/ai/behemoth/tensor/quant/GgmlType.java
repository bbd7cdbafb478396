package ai.behemoth.tensor.quant;

/**
 * Tensor element types as GGUF and llama.cpp number them ({@code ggml_type}). Quantised types
 * store blocks of {@code blockSize} values in {@code blockBytes} bytes.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q8_0(8, 32, 34),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    BF16(30, 1, 2);

    public final int ggmlId;
    public final int blockSize;
    public final int blockBytes;

    GgmlType(int ggmlId, int blockSize, int blockBytes) {
        this.ggmlId = ggmlId;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** Bytes of a row of {@code n} values; {@code n} must be a multiple of the block size. */
    public long rowBytes(long n) {
        if (n % blockSize != 0)
            throw new IllegalArgumentException(this + " rows must hold a multiple of " + blockSize + " values, got " + n);
        return n / blockSize * blockBytes;
    }

    /** The type with GGUF id {@code id}; throws naming the id when Behemoth does not support it. */
    public static GgmlType ofId(int id) {
        for (GgmlType t : values()) if (t.ggmlId == id) return t;
        throw new IllegalArgumentException("unsupported ggml tensor type " + id);
    }
}
