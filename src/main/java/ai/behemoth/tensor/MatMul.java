package ai.behemoth.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The three matrix products that training needs, on row-major float arrays with offsets.
 * Every output element is computed by one thread in a fixed order, so results do not depend on
 * the thread count. {@code accumulate} adds into {@code out} instead of overwriting it.
 *
 * <p>How: B is packed once into panels {@link #NR} columns wide (k-major inside a panel, so the
 * kernel reads it sequentially); the output is cut into blocks of {@link #MC} rows by {@link #NC}
 * columns, one task each, spread over {@link Parallel}. A task packs its rows of A, {@link #KC}
 * deep at a time, into micro-panels of {@link #MR} rows, and a register-tiled micro-kernel computes
 * each MR × NR tile with MR·NR/VL independent vector FMA chains. The depth is summed in order
 * p = 0, 1, ..., k-1 (one FMA per step, a KC block at a time added to the output), whatever the
 * thread count or vector width. The plain twin is {@link MatMulScalar}.
 */
public final class MatMul {
    private MatMul() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    /** Rows of a register tile. */
    static final int MR = 4;
    /** Columns of a register tile: four vectors. */
    static final int NR = 4 * VL;
    /** Depth of a packed block of A (MR × KC floats stay in L1 while the kernel sweeps B). */
    static final int KC = 256;
    /** Rows of a task. */
    static final int MC = 64;
    /** Columns of a task. */
    static final int NC = 4 * NR;
    /** Below this many multiply-adds a product runs on the calling thread: waking workers costs more. */
    private static final long PARALLEL_MIN_WORK = 1 << 17;

    private enum Form { AB_T, AB, A_T_B }

    /** out[M,N] (+)= a[M,K] · b[N,K]ᵀ — a linear layer's forward (y = x·Wᵀ) and dx of attention scores. */
    public static void abT(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff,
                           int m, int k, int n, boolean accumulate) {
        multiply(Form.AB_T, out, outOff, a, aOff, b, bOff, m, k, n, accumulate);
    }

    /** out[M,N] (+)= a[M,K] · b[K,N] — a linear layer's input gradient (dx = dy·W). */
    public static void ab(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff,
                          int m, int k, int n, boolean accumulate) {
        multiply(Form.AB, out, outOff, a, aOff, b, bOff, m, k, n, accumulate);
    }

    /** out[M,N] (+)= a[K,M]ᵀ · b[K,N] — a linear layer's weight gradient (dW += dyᵀ·x). */
    public static void aTb(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff,
                           int m, int k, int n, boolean accumulate) {
        multiply(Form.A_T_B, out, outOff, a, aOff, b, bOff, m, k, n, accumulate);
    }

    /** Per-thread packing buffers, grown on demand and reused. */
    private static final class Scratch {
        float[] packedA = new float[MC * KC];
        float[] packedB = new float[0];
        final float[] edge = new float[MR * NR];

        float[] packedB(int size) {
            if (packedB.length < size) packedB = new float[size];
            return packedB;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static void multiply(Form form, float[] out, int outOff, float[] a, int aOff, float[] b, int bOff,
                                 int m, int k, int n, boolean accumulate) {
        if (m < 0 || k < 0 || n < 0) {
            throw new IllegalArgumentException("matrix sizes must not be negative: m=" + m + " k=" + k + " n=" + n);
        }
        checkRange("out", out, outOff, (long) m * n);
        checkRange("a", a, aOff, (long) m * k);
        checkRange("b", b, bOff, (long) k * n);
        if (m == 0 || n == 0) return;
        if (k == 0) {
            if (!accumulate) for (int i = 0; i < m; i++) java.util.Arrays.fill(out, outOff + i * n, outOff + (i + 1) * n, 0f);
            return;
        }
        int panels = (n + NR - 1) / NR;
        float[] packedB = SCRATCH.get().packedB(panels * NR * k);
        int rowBlocks = (m + MC - 1) / MC, colBlocks = (n + NC - 1) / NC;
        boolean parallel = (long) m * n * k >= PARALLEL_MIN_WORK;

        if (parallel && (long) k * n >= PARALLEL_MIN_WORK / 4) {
            Parallel.forRange(panels, jp -> packB(form, b, bOff, k, n, jp, packedB));
        } else {
            for (int jp = 0; jp < panels; jp++) packB(form, b, bOff, k, n, jp, packedB);
        }
        if (parallel) {
            Parallel.forRange(rowBlocks * colBlocks, t -> block(form, out, outOff, a, aOff, packedB, m, k, n,
                    t / colBlocks, t % colBlocks, accumulate));
        } else {
            for (int t = 0; t < rowBlocks * colBlocks; t++) {
                block(form, out, outOff, a, aOff, packedB, m, k, n, t / colBlocks, t % colBlocks, accumulate);
            }
        }
    }

    private static void checkRange(String name, float[] x, int off, long size) {
        if (off < 0 || off + size > x.length) {
            throw new IllegalArgumentException("matrix " + name + " needs " + size + " floats from offset " + off
                    + " but has length " + x.length);
        }
    }

    /** Packs columns [jp·NR, jp·NR + NR) of B(p, j) into packedB[jp·NR·k + p·NR + jj], zero beyond n. */
    private static void packB(Form form, float[] b, int bOff, int k, int n, int jp, float[] packedB) {
        int j0 = jp * NR, cols = Math.min(NR, n - j0), base = jp * NR * k;
        if (form == Form.AB_T) { // B(p, j) = b[j·k + p]: a transpose
            for (int jj = 0; jj < cols; jj++) {
                int src = bOff + (j0 + jj) * k;
                for (int p = 0; p < k; p++) packedB[base + p * NR + jj] = b[src + p];
            }
        } else { // B(p, j) = b[p·n + j]: row pieces
            for (int p = 0; p < k; p++) System.arraycopy(b, bOff + p * n + j0, packedB, base + p * NR, cols);
        }
        if (cols < NR) {
            for (int p = 0; p < k; p++) java.util.Arrays.fill(packedB, base + p * NR + cols, base + (p + 1) * NR, 0f);
        }
    }

    /** Packs rows [i0, i0 + rows) and depth [k0, k0 + kc) of A(i, p) into micro-panels of MR rows, zero-padded. */
    private static void packA(Form form, float[] a, int aOff, int m, int k, int i0, int rows, int k0, int kc,
                              float[] packedA) {
        int microPanels = (rows + MR - 1) / MR;
        for (int ir = 0; ir < microPanels; ir++) {
            int base = ir * MR * kc, r0 = ir * MR, valid = Math.min(MR, rows - r0);
            if (form == Form.A_T_B) { // A(i, p) = a[p·m + i]: MR neighbours per step
                for (int p = 0; p < kc; p++) {
                    int src = aOff + (k0 + p) * m + i0 + r0;
                    for (int r = 0; r < valid; r++) packedA[base + p * MR + r] = a[src + r];
                }
            } else { // A(i, p) = a[i·k + p]
                for (int r = 0; r < valid; r++) {
                    int src = aOff + (i0 + r0 + r) * k + k0;
                    for (int p = 0; p < kc; p++) packedA[base + p * MR + r] = a[src + p];
                }
            }
            for (int r = valid; r < MR; r++) {
                for (int p = 0; p < kc; p++) packedA[base + p * MR + r] = 0f;
            }
        }
    }

    /** One task: output rows [rb·MC, +MC) by columns [cb·NC, +NC), all depth blocks in order. */
    private static void block(Form form, float[] out, int outOff, float[] a, int aOff, float[] packedB,
                              int m, int k, int n, int rb, int cb, boolean accumulate) {
        Scratch scratch = SCRATCH.get();
        float[] packedA = scratch.packedA;
        int i0 = rb * MC, rows = Math.min(MC, m - i0);
        int j0 = cb * NC, cols = Math.min(NC, n - j0);
        for (int k0 = 0; k0 < k; k0 += KC) {
            int kc = Math.min(KC, k - k0);
            packA(form, a, aOff, m, k, i0, rows, k0, kc, packedA);
            boolean add = accumulate || k0 > 0;
            for (int r0 = 0; r0 < rows; r0 += MR) {
                int aBase = (r0 / MR) * MR * kc;
                for (int c0 = 0; c0 < cols; c0 += NR) {
                    int j = j0 + c0;
                    int bBase = (j / NR) * NR * k + k0 * NR;
                    kernel(packedA, aBase, packedB, bBase, kc, out, outOff + (i0 + r0) * n + j, n,
                            Math.min(MR, rows - r0), Math.min(NR, cols - c0), add, scratch.edge);
                }
            }
        }
    }

    /**
     * The register tile: C[MR, NR] (+)= Apanel[kc, MR]ᵀ · Bpanel[kc, NR], sixteen accumulators.
     * A full tile is stored with vector loads and stores; an edge tile goes through {@code edge}.
     */
    private static void kernel(float[] pa, int aBase, float[] pb, int bBase, int kc,
                               float[] out, int cOff, int ldc, int rows, int cols, boolean add, float[] edge) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        for (int p = 0; p < kc; p++) {
            int bo = bBase + p * NR, ao = aBase + p * MR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bo);
            FloatVector b1 = FloatVector.fromArray(S, pb, bo + VL);
            FloatVector b2 = FloatVector.fromArray(S, pb, bo + 2 * VL);
            FloatVector b3 = FloatVector.fromArray(S, pb, bo + 3 * VL);
            FloatVector x = FloatVector.broadcast(S, pa[ao]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02); c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(S, pa[ao + 1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12); c13 = x.fma(b3, c13);
            x = FloatVector.broadcast(S, pa[ao + 2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22); c23 = x.fma(b3, c23);
            x = FloatVector.broadcast(S, pa[ao + 3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32); c33 = x.fma(b3, c33);
        }
        if (rows == MR && cols == NR) {
            store(out, cOff, add, c00, c01, c02, c03);
            store(out, cOff + ldc, add, c10, c11, c12, c13);
            store(out, cOff + 2 * ldc, add, c20, c21, c22, c23);
            store(out, cOff + 3 * ldc, add, c30, c31, c32, c33);
            return;
        }
        store(edge, 0, false, c00, c01, c02, c03);
        store(edge, NR, false, c10, c11, c12, c13);
        store(edge, 2 * NR, false, c20, c21, c22, c23);
        store(edge, 3 * NR, false, c30, c31, c32, c33);
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                int o = cOff + r * ldc + j;
                out[o] = add ? out[o] + edge[r * NR + j] : edge[r * NR + j];
            }
        }
    }

    private static void store(float[] out, int off, boolean add, FloatVector v0, FloatVector v1, FloatVector v2, FloatVector v3) {
        if (add) {
            v0 = v0.add(FloatVector.fromArray(S, out, off));
            v1 = v1.add(FloatVector.fromArray(S, out, off + VL));
            v2 = v2.add(FloatVector.fromArray(S, out, off + 2 * VL));
            v3 = v3.add(FloatVector.fromArray(S, out, off + 3 * VL));
        }
        v0.intoArray(out, off);
        v1.intoArray(out, off + VL);
        v2.intoArray(out, off + 2 * VL);
        v3.intoArray(out, off + 3 * VL);
    }
}
