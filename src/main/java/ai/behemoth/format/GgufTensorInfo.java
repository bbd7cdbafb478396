package ai.behemoth.format;

import ai.behemoth.tensor.quant.GgmlType;

import java.util.Arrays;

/**
 * A tensor of a GGUF file: its name, its dimensions in ggml order ({@code dims[0]} is the row
 * length, the fastest-varying one; a PyTorch shape [rows, cols] is dims {cols, rows}), its type,
 * and the offset of its data from the start of the data section.
 */
public record GgufTensorInfo(String name, long[] dims, GgmlType type, long offset) {
    public GgufTensorInfo {
        dims = dims.clone();
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }

    /** The number of values; the caller has checked that it does not overflow. */
    public long elements() {
        long n = 1;
        for (long d : dims) n *= d;
        return n;
    }

    /** Values per row ({@code dims[0]}). */
    public long rowLength() {
        return dims.length == 0 ? 1 : dims[0];
    }

    public long rows() {
        return elements() / Math.max(1, rowLength());
    }

    public long byteSize() {
        return rows() * type.rowBytes(rowLength());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && Arrays.equals(dims, t.dims)
                && type == t.type && offset == t.offset;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims) + " @" + offset;
    }
}
