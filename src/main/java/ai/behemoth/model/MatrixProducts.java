package ai.behemoth.model;

import ai.behemoth.tensor.Parallel;

import java.util.function.IntConsumer;

/**
 * Independent linear-layer products run together: {@code out = x·Wᵀ} for each product added, as
 * {@link Matrix#multiply} computes it. Those with few input rows (decode: wq, wk and wv of one
 * token; the gate and up matrices of every chosen expert) share one parallel job, split into the
 * row blocks of all their matrices, so a token waits at one barrier instead of one per matrix and
 * an expert with a single row still spreads over every thread. Products with more input rows run
 * one after another through {@link Matrix#multiply}. No product may read another's output.
 * A SwiGLU pair ({@link #addSwiGlu}) is one product whose blocks compute a block of gate rows, the
 * same block of up rows, and then {@code silu(gate)·up} of that block, so the activation runs inside
 * the parallel job instead of on the calling thread between jobs.
 * Reused from call to call: adding and running allocate nothing.
 */
final class MatrixProducts {
    private final Matrix[] matrix, up; // up: null but for a SwiGLU pair
    private final float[][] in, out, upOut;
    private final int[] inOff, inRows, outOff, upOutOff;
    private final int[] firstBlock; // [size + 1]: the job's block index where each few-row product starts
    private int size;
    private final IntConsumer block = this::runBlock;

    MatrixProducts(int capacity) {
        matrix = new Matrix[capacity];
        up = new Matrix[capacity];
        in = new float[capacity][];
        out = new float[capacity][];
        upOut = new float[capacity][];
        inOff = new int[capacity];
        inRows = new int[capacity];
        outOff = new int[capacity];
        upOutOff = new int[capacity];
        firstBlock = new int[capacity + 1];
    }

    /** Adds {@code out[outOff + t·rows + r] = W[r]·x[xOff + t·cols]} for the {@code n} input rows; {@link #run} computes it. */
    void add(Matrix w, float[] x, int xOff, int n, float[] y, int yOff) {
        addSwiGlu(w, null, x, xOff, n, y, yOff, null, 0);
    }

    /**
     * Adds {@code h[hOff + t·rows + r] = silu(g)·u} for the {@code n} input rows, where {@code g} and
     * {@code u} are what {@link #add} computes with {@code gate} and {@code up}; {@code u} is left in
     * {@code upOut[upOff..]}. With {@code up} null this is {@link #add} of {@code gate}.
     */
    void addSwiGlu(Matrix gate, Matrix up, float[] x, int xOff, int n, float[] h, int hOff, float[] upOut, int upOff) {
        if (size == matrix.length) throw new IllegalStateException("more than " + size + " products in one job");
        if (up != null && (up.rows() != gate.rows() || up.cols() != gate.cols()))
            throw new IllegalArgumentException(up.name() + " is not shaped as " + gate.name());
        matrix[size] = gate;
        this.up[size] = up;
        this.upOut[size] = upOut;
        upOutOff[size] = upOff;
        in[size] = x;
        inOff[size] = xOff;
        inRows[size] = n;
        out[size] = h;
        outOff[size] = hOff;
        size++;
    }

    /** Computes every product added since the last run, then forgets them. */
    void run() {
        int blocks = 0;
        for (int p = 0; p < size; p++) {
            firstBlock[p] = blocks;
            if (Matrix.fewRows(inRows[p])) {
                blocks += matrix[p].fewRowBlocks();
            } else {
                matrix[p].multiply(in[p], inOff[p], inRows[p], out[p], outOff[p]);
                if (up[p] != null) {
                    up[p].multiply(in[p], inOff[p], inRows[p], upOut[p], upOutOff[p]);
                    siluTimes(out[p], outOff[p], upOut[p], upOutOff[p], inRows[p] * matrix[p].rows());
                }
            }
        }
        firstBlock[size] = blocks;
        try {
            Parallel.forRange(blocks, block);
        } finally {
            size = 0;
        }
    }

    /** Block {@code b} of the job: a block of the few-row product it falls in (the others span no blocks). */
    private void runBlock(int b) {
        int p = 0;
        while (b >= firstBlock[p + 1]) p++;
        int block = b - firstBlock[p];
        matrix[p].multiplyFewRows(block, in[p], inOff[p], inRows[p], out[p], outOff[p]);
        if (up[p] == null) return;
        up[p].multiplyFewRows(block, in[p], inOff[p], inRows[p], upOut[p], upOutOff[p]);
        int rows = matrix[p].rows(), first = matrix[p].fewRowFirst(block), count = matrix[p].fewRowCount(block);
        for (int t = 0; t < inRows[p]; t++)
            siluTimes(out[p], outOff[p] + t * rows + first, upOut[p], upOutOff[p] + t * rows + first, count);
    }

    /** {@code h[hOff + i] = silu(h[hOff + i])·u[uOff + i]} for i < n. */
    static void siluTimes(float[] h, int hOff, float[] u, int uOff, int n) {
        for (int i = 0; i < n; i++) {
            float g = h[hOff + i];
            h[hOff + i] = g * sigmoid(g) * u[uOff + i];
        }
    }

    static float sigmoid(float v) {
        return 1f / (1f + (float) Math.exp(-v));
    }
}
