package ai.behemoth.model;

import ai.behemoth.tensor.Parallel;
import ai.behemoth.tensor.quant.Q8Activations;
import ai.behemoth.tensor.quant.QuantMatMul;
import ai.behemoth.train.SwiGlu;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.util.function.IntConsumer;

/**
 * Independent linear-layer products run together: {@code out = x·Wᵀ} for each product added, with the
 * bits of {@link Matrix#multiply}. All products share one parallel job, so the caller waits at one
 * barrier per job (two or three when some products have many input rows) instead of two per matrix, and a
 * matrix with few rows still spreads over every thread. Products with few input rows (decode: wq, wk
 * and wv of one token; the gate and up matrices of every chosen expert), and every product of a
 * Q4_0 or Q8_0 matrix with 8-bit activations ({@link Matrix#byRowBlocks}), are split into the row blocks
 * of {@link Matrix#multiplyRowBlock}; those with many (prefill: an expert's share of a prompt chunk)
 * into the row groups of {@link QuantMatMul#multiplyRowGroup}, their input rows packed first, in a
 * job of their own, once for all the products that read the same rows (wq, wk and wv; gate and up).
 * No product may read another's output. Input rows for 8-bit activations are quantised first, in a
 * job of their own (on the calling thread when they are few), likewise once for all the products
 * that read them.
 * A SwiGLU pair ({@link #addSwiGlu}) is one product whose tasks compute a block of gate rows and the
 * same block of up rows; in row blocks the task then takes {@code silu(gate)·up} of its block,
 * with many a third job takes it over stretches of whole vectors (a row group holds runs of only
 * {@link QuantMatMul#MR} outputs, and masked vector stores at the end of an array took a slow path):
 * either way the activation runs on every thread, not on the calling thread between jobs.
 * Reused from call to call: adding and running allocate nothing once the packing buffer has grown.
 */
final class MatrixProducts {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private final Matrix[] matrix, up; // up: null but for a SwiGLU pair
    private final float[][] in, out, upOut;
    private final int[] inOff, inRows, outOff, upOutOff;
    private final int[] firstBlock; // [size + 1]: the job's task index where each product starts
    private final int[] packedAt; // many-row products: where their packed input rows start in packed
    private final int[] firstPanel; // [size + 1]: the pack job's task index where each product's panels start (none when it reuses another's)
    private float[] packed = new float[0];
    private final Q8Activations[] ownQ8; // [capacity]: product p's buffer, used when it quantises its input itself
    private final Q8Activations[] q8; // [capacity]: the quantised input rows product p reads, or null
    private final int[] firstQuantised; // [capacity + 1]: the quantisation job's task index where each product's input rows start (none when it reads another's)
    private int size;
    private final int[] firstChunk; // [size + 1]: the activation job's task index where each many-row SwiGLU pair's chunks start
    /** Outputs per activation task. */
    private static final int ACTIVATION_CHUNK = 4096;
    private final IntConsumer block = this::runBlock, pack = this::packPanel, activation = this::activate, quantise = this::quantiseRow;
    /** Below this many input rows to quantise, the caller quantises them itself: a parallel job would cost more. */
    private static final int PARALLEL_QUANTISE_ROWS = 8;

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
        packedAt = new int[capacity];
        firstPanel = new int[capacity + 1];
        firstChunk = new int[capacity + 1];
        ownQ8 = new Q8Activations[capacity];
        for (int p = 0; p < capacity; p++) ownQ8[p] = new Q8Activations();
        q8 = new Q8Activations[capacity];
        firstQuantised = new int[capacity + 1];
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
        int blocks = 0, panels = 0, packedSize = 0, chunks = 0, quantised = 0;
        for (int p = 0; p < size; p++) {
            firstBlock[p] = blocks;
            firstPanel[p] = panels;
            firstChunk[p] = chunks;
            firstQuantised[p] = quantised;
            int n = inRows[p];
            q8[p] = null;
            if (matrix[p].byRowBlocks(n)) {
                blocks += matrix[p].rowBlocks();
                q8[p] = quantisedInput(p);
                if (q8[p] == ownQ8[p]) quantised += n;
                continue;
            }
            blocks += QuantMatMul.rowGroups(matrix[p].rows());
            if (up[p] != null) chunks += (n * matrix[p].rows() + ACTIVATION_CHUNK - 1) / ACTIVATION_CHUNK;
            int same = samePackedInput(p);
            if (same >= 0) {
                packedAt[p] = packedAt[same];
            } else {
                packedAt[p] = packedSize;
                packedSize += QuantMatMul.packedSize(n, matrix[p].cols());
                panels += QuantMatMul.panels(n);
            }
        }
        firstBlock[size] = blocks;
        firstPanel[size] = panels;
        firstChunk[size] = chunks;
        firstQuantised[size] = quantised;
        if (packed.length < packedSize) packed = new float[packedSize];
        try {
            if (quantised < PARALLEL_QUANTISE_ROWS) for (int i = 0; i < quantised; i++) quantiseRow(i);
            else Parallel.forRange(quantised, quantise);
            Parallel.forRange(panels, pack);
            Parallel.forRange(blocks, block);
            Parallel.forRange(chunks, activation);
        } finally {
            size = 0;
        }
    }

    /**
     * The 8-bit input rows of row-block product {@code p}: null when its matrices are exact, an earlier
     * product's when that read the same rows, or its own, made ready for {@link #quantiseRow}.
     */
    private Q8Activations quantisedInput(int p) {
        if (!matrix[p].q8Activations() && (up[p] == null || !up[p].q8Activations())) return null;
        for (int e = 0; e < p; e++)
            if (q8[e] != null && in[e] == in[p] && inOff[e] == inOff[p] && inRows[e] == inRows[p] && matrix[e].cols() == matrix[p].cols())
                return q8[e];
        ownQ8[p].prepare(inRows[p], matrix[p].cols());
        return ownQ8[p];
    }

    /** Quantisation task {@code i}: an input row of a product that quantises its own. */
    private void quantiseRow(int i) {
        int p = productOf(i, firstQuantised);
        ownQ8[p].quantizeRow(in[p], inOff[p], i - firstQuantised[p]);
    }

    /** An earlier many-row product of the job that reads the same input rows as product {@code p}, or -1. */
    private int samePackedInput(int p) {
        for (int q = 0; q < p; q++)
            if (!matrix[q].byRowBlocks(inRows[q]) && in[q] == in[p] && inOff[q] == inOff[p] && inRows[q] == inRows[p]
                    && matrix[q].cols() == matrix[p].cols()) return q;
        return -1;
    }

    /** The product that task {@code i} of a job falls in, given where each product's tasks start. */
    private int productOf(int i, int[] first) {
        int p = 0;
        while (i >= first[p + 1]) p++;
        return p;
    }

    /** Pack task {@code i}: a panel of a many-row product's input rows. */
    private void packPanel(int i) {
        int p = productOf(i, firstPanel);
        QuantMatMul.packPanel(in[p], inOff[p], inRows[p], matrix[p].cols(), i - firstPanel[p], packed, packedAt[p]);
    }

    /** Task {@code b} of the job: a row block or a row group of the product it falls in. */
    private void runBlock(int b) {
        int p = productOf(b, firstBlock), block = b - firstBlock[p], n = inRows[p];
        Matrix gate = matrix[p];
        int rows = gate.rows(), first, count;
        if (gate.byRowBlocks(n)) {
            gate.multiplyRowBlock(block, in[p], inOff[p], n, q8[p], out[p], outOff[p]);
            if (up[p] == null) return;
            up[p].multiplyRowBlock(block, in[p], inOff[p], n, q8[p], upOut[p], upOutOff[p]);
            first = gate.rowBlockFirst(block);
            count = gate.rowBlockCount(block);
        } else { // the activation follows in a job of its own, on whole vectors (a row group's outputs are runs of MR values)
            QuantMatMul.multiplyRowGroup(gate.type(), gate.data(), rows, gate.cols(), packed, packedAt[p], n, block, out[p], outOff[p]);
            if (up[p] != null) {
                Matrix u = up[p];
                QuantMatMul.multiplyRowGroup(u.type(), u.data(), rows, u.cols(), packed, packedAt[p], n, block, upOut[p], upOutOff[p]);
            }
            return;
        }
        for (int t = 0; t < n; t++)
            siluTimes(out[p], outOff[p] + t * rows + first, upOut[p], upOutOff[p] + t * rows + first, count);
    }

    /** Activation task {@code i}: {@link #siluTimes} over a stretch of {@link #ACTIVATION_CHUNK} outputs of a many-row SwiGLU pair. */
    private void activate(int i) {
        int p = productOf(i, firstChunk), from = (i - firstChunk[p]) * ACTIVATION_CHUNK;
        int count = Math.min(ACTIVATION_CHUNK, inRows[p] * matrix[p].rows() - from);
        siluTimes(out[p], outOff[p] + from, upOut[p], upOutOff[p] + from, count);
    }

    /**
     * {@code h[hOff + i] = g·σ(g)·u[uOff + i]} for i < n, g = h[hOff + i], on vectors with the
     * sigmoid of training ({@link SwiGlu#sigmoid(FloatVector)}: a scalar {@code Math.exp} per value
     * cost about 5% of a prefill), masked for the last few values: every value gets the bits of the
     * same lane operations, whatever block it falls in, so prefill and decode agree.
     */
    static void siluTimes(float[] h, int hOff, float[] u, int uOff, int n) {
        for (int i = 0; i < n; i += F.length()) {
            VectorMask<Float> live = F.indexInRange(i, n);
            FloatVector g = FloatVector.fromArray(F, h, hOff + i, live);
            g.mul(SwiGlu.sigmoid(g)).mul(FloatVector.fromArray(F, u, uOff + i, live)).intoArray(h, hOff + i, live);
        }
    }

    static float sigmoid(float v) {
        return 1f / (1f + (float) Math.exp(-v));
    }
}
