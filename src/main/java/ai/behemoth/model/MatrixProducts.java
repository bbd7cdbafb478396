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
 * Reused from call to call: adding and running allocate nothing.
 */
final class MatrixProducts {
    private final Matrix[] matrix;
    private final float[][] in, out;
    private final int[] inOff, inRows, outOff;
    private final int[] firstBlock; // [size + 1]: the job's block index where each few-row product starts
    private int size;
    private final IntConsumer block = this::runBlock;

    MatrixProducts(int capacity) {
        matrix = new Matrix[capacity];
        in = new float[capacity][];
        out = new float[capacity][];
        inOff = new int[capacity];
        inRows = new int[capacity];
        outOff = new int[capacity];
        firstBlock = new int[capacity + 1];
    }

    /** Adds {@code out[outOff + t·rows + r] = W[r]·x[xOff + t·cols]} for the {@code n} input rows; {@link #run} computes it. */
    void add(Matrix w, float[] x, int xOff, int n, float[] y, int yOff) {
        if (size == matrix.length) throw new IllegalStateException("more than " + size + " products in one job");
        matrix[size] = w;
        in[size] = x;
        inOff[size] = xOff;
        inRows[size] = n;
        out[size] = y;
        outOff[size] = yOff;
        size++;
    }

    /** Computes every product added since the last run, then forgets them. */
    void run() {
        int blocks = 0;
        for (int p = 0; p < size; p++) {
            firstBlock[p] = blocks;
            if (Matrix.fewRows(inRows[p])) blocks += matrix[p].fewRowBlocks();
            else matrix[p].multiply(in[p], inOff[p], inRows[p], out[p], outOff[p]);
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
        matrix[p].multiplyFewRows(b - firstBlock[p], in[p], inOff[p], inRows[p], out[p], outOff[p]);
    }
}
