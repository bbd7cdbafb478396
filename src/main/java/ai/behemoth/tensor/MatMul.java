package ai.behemoth.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The three matrix products that training needs, on row-major float arrays with offsets.
 * Every output element is computed by one thread in a fixed order, so results do not depend on
 * the thread count. {@code accumulate} adds into {@code out} instead of overwriting it.
 *
 * <p>How: B is packed once into panels {@link #NR} columns wide (k-major inside a panel, so the
 * kernel reads it sequentially; a last panel of at most NR/2 columns is packed half as wide and gets
 * a half-width kernel, so head-sized outputs of 32 columns waste nothing). The output is cut into
 * blocks of at most {@link #MC} rows by {@link #NC} columns, one task each, spread over
 * {@link Parallel}. Within a task, a register-tiled kernel computes each MR × NR tile with
 * MR·NR/VL independent vector FMA chains, reading A's rows where they lie (Aᵀ·B copies its rows
 * per depth block first). The depth is summed in order p = 0, 1, ..., k-1, one FMA per step and
 * {@link #KC} steps at a time added to the output: the same order whatever the thread count, task
 * size or vector width. The plain twin is {@link MatMulScalar}.
 */
public final class MatMul {
    private MatMul() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    /** Rows of a register tile. */
    static final int MR = 4;
    /** Columns of a register tile: four vectors. */
    static final int NR = 4 * VL;
    /** Depth summed in registers before a tile is added to the output; fixed, as it decides the rounding. */
    static final int KC = 256;
    /** Rows of a task at most (fewer when that gives each thread several tasks). */
    static final int MC = 64;
    /** Columns of a task. */
    static final int NC = 4 * NR;
    /** Below this many multiply-adds a product runs on the calling thread: waking workers costs more. */
    private static final long PARALLEL_MIN_WORK = 1 << 17;

    private enum Form { AB_T, AB, A_T_B }

    /** out[M,N] (+)= a[M,K] · b[N,K]ᵀ — a linear layer's forward (y = x·Wᵀ) and dx of attention scores. */
    public static void abT(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff,
                           int m, int k, int n, boolean accumulate) {
        abT(out, outOff, n, a, aOff, k, b, bOff, k, m, k, n, accumulate);
    }

    /** out[M,N] (+)= a[M,K] · b[K,N] — a linear layer's input gradient (dx = dy·W). */
    public static void ab(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff,
                          int m, int k, int n, boolean accumulate) {
        ab(out, outOff, n, a, aOff, k, b, bOff, n, m, k, n, accumulate);
    }

    /** out[M,N] (+)= a[K,M]ᵀ · b[K,N] — a linear layer's weight gradient (dW += dyᵀ·x). */
    public static void aTb(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff,
                           int m, int k, int n, boolean accumulate) {
        aTb(out, outOff, n, a, aOff, m, b, bOff, n, m, k, n, accumulate);
    }

    /**
     * {@link #abT(float[], int, float[], int, float[], int, int, int, int, boolean)} on matrices whose
     * rows lie {@code ldOut}, {@code lda}, {@code ldb} floats apart (at least their widths n, k, k):
     * one head of a fused QKV buffer, say, without copying it out.
     */
    public static void abT(float[] out, int outOff, int ldOut, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                           int m, int k, int n, boolean accumulate) {
        new Product(Form.AB_T, out, outOff, ldOut, a, aOff, lda, b, bOff, ldb, m, k, n, accumulate).run();
    }

    /** {@link #ab(float[], int, float[], int, float[], int, int, int, int, boolean)} with row strides (at least n, k, n). */
    public static void ab(float[] out, int outOff, int ldOut, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          int m, int k, int n, boolean accumulate) {
        new Product(Form.AB, out, outOff, ldOut, a, aOff, lda, b, bOff, ldb, m, k, n, accumulate).run();
    }

    /** {@link #aTb(float[], int, float[], int, float[], int, int, int, int, boolean)} with row strides (at least n, m, n). */
    public static void aTb(float[] out, int outOff, int ldOut, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                           int m, int k, int n, boolean accumulate) {
        new Product(Form.A_T_B, out, outOff, ldOut, a, aOff, lda, b, bOff, ldb, m, k, n, accumulate).run();
    }

    /** Per-thread packing buffers, grown on demand and reused. */
    private static final class Scratch {
        final float[] packedA = new float[MC * KC];
        float[] packedB = new float[0];
        final float[] tile = new float[MR * NR];

        float[] packedB(int size) {
            if (packedB.length < size) packedB = new float[size];
            return packedB;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * One call: out(i, j) = out[outOff + i·ldOut + j]; A(i, p) = a[aOff + i·lda + p], or a[aOff + p·lda + i]
     * for Aᵀ·B; B(p, j) = b[bOff + j·ldb + p] for A·Bᵀ, else b[bOff + p·ldb + j].
     */
    private record Product(Form form, float[] out, int outOff, int ldOut, float[] a, int aOff, int lda,
                           float[] b, int bOff, int ldb, int m, int k, int n, boolean accumulate) {

        void run() {
            if (m < 0 || k < 0 || n < 0) {
                throw new IllegalArgumentException("matrix sizes must not be negative: m=" + m + " k=" + k + " n=" + n);
            }
            checkRange("out", out, outOff, m, n, ldOut);
            if (form == Form.A_T_B) checkRange("a", a, aOff, k, m, lda);
            else checkRange("a", a, aOff, m, k, lda);
            if (form == Form.AB_T) checkRange("b", b, bOff, n, k, ldb);
            else checkRange("b", b, bOff, k, n, ldb);
            if (m == 0 || n == 0) return;
            if (k == 0) {
                if (!accumulate) for (int i = 0; i < m; i++) java.util.Arrays.fill(out, outOff + i * ldOut, outOff + i * ldOut + n, 0f);
                return;
            }
            int panels = (n + NR - 1) / NR;
            float[] packedB = SCRATCH.get().packedB(panels * NR * k);
            boolean parallel = (long) m * n * k >= PARALLEL_MIN_WORK;
            int colBlocks = (n + NC - 1) / NC, mc = MC;
            while (parallel && mc > MR && (m + mc - 1) / mc * colBlocks < 4 * Parallel.threads()) mc /= 2;
            int rows = mc, rowBlocks = (m + mc - 1) / mc;

            if (parallel && (long) k * n >= PARALLEL_MIN_WORK / 4) {
                Parallel.forRange(panels, jp -> packB(jp, packedB));
            } else {
                for (int jp = 0; jp < panels; jp++) packB(jp, packedB);
            }
            if (parallel) {
                Parallel.forRange(rowBlocks * colBlocks, t -> block(packedB, (t / colBlocks) * rows, rows, t % colBlocks));
            } else {
                for (int t = 0; t < rowBlocks * colBlocks; t++) block(packedB, (t / colBlocks) * rows, rows, t % colBlocks);
            }
        }

        /** Packs columns [jp·NR, jp·NR + w) of B(p, j) into packedB[jp·NR·k + p·w + jj] (w the panel width), zero beyond n. */
        private void packB(int jp, float[] packedB) {
            int j0 = jp * NR, w = panelWidth(n, j0), cols = Math.min(w, n - j0), base = jp * NR * k;
            if (form == Form.AB_T) { // B(p, j) = b[j·ldb + p]: a transpose, four source rows at a time
                int jj = 0;
                for (; jj + 4 <= cols; jj += 4) {
                    int s0 = bOff + (j0 + jj) * ldb, s1 = s0 + ldb, s2 = s1 + ldb, s3 = s2 + ldb;
                    for (int p = 0, d = base + jj; p < k; p++, d += w) {
                        packedB[d] = b[s0 + p];
                        packedB[d + 1] = b[s1 + p];
                        packedB[d + 2] = b[s2 + p];
                        packedB[d + 3] = b[s3 + p];
                    }
                }
                for (; jj < cols; jj++) {
                    int src = bOff + (j0 + jj) * ldb;
                    for (int p = 0; p < k; p++) packedB[base + p * w + jj] = b[src + p];
                }
            } else if (cols == NR) { // B(p, j) = b[p·ldb + j]: row pieces, a whole panel's four vectors per depth
                for (int p = 0, src = bOff + j0, dst = base; p < k; p++, src += ldb, dst += NR) {
                    FloatVector.fromArray(S, b, src).intoArray(packedB, dst);
                    FloatVector.fromArray(S, b, src + VL).intoArray(packedB, dst + VL);
                    FloatVector.fromArray(S, b, src + 2 * VL).intoArray(packedB, dst + 2 * VL);
                    FloatVector.fromArray(S, b, src + 3 * VL).intoArray(packedB, dst + 3 * VL);
                }
            } else { // row pieces of a last, narrower panel
                for (int p = 0; p < k; p++) System.arraycopy(b, bOff + p * ldb + j0, packedB, base + p * w, cols);
            }
            if (cols < w) {
                for (int p = 0; p < k; p++) java.util.Arrays.fill(packedB, base + p * w + cols, base + (p + 1) * w, 0f);
            }
        }

        /**
         * Copies the last, partial micro-panel of A ({@code valid} < MR rows from row i, depth
         * [k0, k0 + kc)) into packedA[p·MR + r], zero beyond the valid rows, so the kernel can always
         * compute MR rows.
         */
        private void packEdgeRows(int i, int valid, int k0, int kc, float[] packedA) {
            java.util.Arrays.fill(packedA, 0, kc * MR, 0f);
            for (int r = 0; r < valid; r++) {
                for (int p = 0; p < kc; p++) packedA[p * MR + r] = a[aOff + (i + r) * lda + k0 + p];
            }
        }

        /**
         * Copies rows [i0, i0 + rows) and depth [k0, k0 + kc) of Aᵀ (A stored [K, M]) into
         * packedA[p·MC + r], zero up to a whole micro-panel. Read in place, successive depths of one
         * micro-panel would lie lda floats apart (for a power of two, all in one cache set); packed they
         * lie MC apart, and the copy is one contiguous piece per depth.
         */
        private void packTransposedRows(int i0, int rows, int k0, int kc, float[] packedA) {
            int padded = (rows + MR - 1) / MR * MR;
            for (int p = 0; p < kc; p++) {
                System.arraycopy(a, aOff + (k0 + p) * lda + i0, packedA, p * MC, rows);
                for (int r = rows; r < padded; r++) packedA[p * MC + r] = 0f;
            }
        }

        /**
         * One task: output rows [i0, i0 + mc) by columns [cb·NC, +NC), all depth blocks in order.
         * For A·Bᵀ and A·B, full micro-panels of A are read where they lie and only a last partial one
         * is copied; for Aᵀ·B the task's rows are copied a depth block at a time.
         */
        private void block(float[] packedB, int i0, int mc, int cb) {
            Scratch scratch = SCRATCH.get();
            int rows = Math.min(mc, m - i0);
            int j0 = cb * NC, cols = Math.min(NC, n - j0);
            boolean transposed = form == Form.A_T_B;
            for (int k0 = 0; k0 < k; k0 += KC) {
                int kc = Math.min(KC, k - k0);
                boolean add = accumulate || k0 > 0;
                if (transposed) packTransposedRows(i0, rows, k0, kc, scratch.packedA);
                for (int r0 = 0; r0 < rows; r0 += MR) {
                    int i = i0 + r0, valid = Math.min(MR, rows - r0);
                    float[] src; // A(r, p) of this micro-panel is src[aBase + r·rs + p·ds]
                    int aBase, rs, ds;
                    if (transposed) {
                        src = scratch.packedA; aBase = r0; rs = 1; ds = MC;
                    } else if (valid == MR) {
                        src = a; aBase = aOff + i * lda + k0; rs = lda; ds = 1;
                    } else {
                        packEdgeRows(i, valid, k0, kc, scratch.packedA);
                        src = scratch.packedA; aBase = 0; rs = 1; ds = MR;
                    }
                    for (int c0 = 0; c0 < cols; c0 += NR) {
                        int j = j0 + c0;
                        int w = panelWidth(n, j), bBase = (j / NR) * NR * k + k0 * w;
                        if (w == NR && !add && valid == MR && cols - c0 >= NR) { // a whole tile, nothing to add: straight to the output
                            kernel(src, aBase, rs, ds, packedB, bBase, kc, out, outOff + i * ldOut + j, ldOut);
                            continue;
                        }
                        if (w == NR) {
                            kernel(src, aBase, rs, ds, packedB, bBase, kc, scratch.tile, 0, NR);
                        } else {
                            halfKernel(src, aBase, rs, ds, packedB, bBase, kc, scratch.tile);
                        }
                        flush(scratch.tile, out, outOff + i * ldOut + j, ldOut, valid, Math.min(w, cols - c0), add);
                    }
                }
            }
        }
    }

    /** Checks that rows × cols floats, rows {@code ld} apart from {@code off}, lie inside x (and that rows do not overlap). */
    private static void checkRange(String name, float[] x, int off, int rows, int cols, int ld) {
        if (ld < cols) {
            throw new IllegalArgumentException("matrix " + name + ": row stride " + ld + " is less than its " + cols + " columns");
        }
        long end = rows == 0 || cols == 0 ? off : off + (long) (rows - 1) * ld + cols;
        if (off < 0 || end > x.length) {
            throw new IllegalArgumentException("matrix " + name + " needs " + rows + "x" + cols + " floats (row stride " + ld
                    + ") from offset " + off + " but has length " + x.length);
        }
    }

    /** The width of the panel starting at column j: NR, or NR/2 for a last panel that narrow. */
    private static int panelWidth(int n, int j) {
        return n - j <= NR / 2 ? NR / 2 : NR;
    }

    /**
     * The register tile: tile[MR, NR] = A[MR, kc] · Bpanel[kc, NR] with sixteen accumulators, where
     * A(r, p) = a[aBase + r·rs + p·ds], stored with rows {@code ldt} apart from {@code tOff}: into the
     * scratch tile, which {@link #flush} then moves (or adds) to the output, or straight into the output
     * when a whole tile overwrites it. Keeping the adds and partial tiles out of this method keeps it
     * small enough for the JIT to hold every vector in a register.
     */
    private static void kernel(float[] a, int aBase, int rs, int ds, float[] pb, int bBase, int kc, float[] tile, int tOff, int ldt) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        for (int p = 0, ao = aBase; p < kc; p++, ao += ds) {
            int bo = bBase + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bo);
            FloatVector b1 = FloatVector.fromArray(S, pb, bo + VL);
            FloatVector b2 = FloatVector.fromArray(S, pb, bo + 2 * VL);
            FloatVector b3 = FloatVector.fromArray(S, pb, bo + 3 * VL);
            FloatVector x = FloatVector.broadcast(S, a[ao]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02); c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(S, a[ao + rs]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12); c13 = x.fma(b3, c13);
            x = FloatVector.broadcast(S, a[ao + 2 * rs]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22); c23 = x.fma(b3, c23);
            x = FloatVector.broadcast(S, a[ao + 3 * rs]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32); c33 = x.fma(b3, c33);
        }
        int t0 = tOff, t1 = t0 + ldt, t2 = t1 + ldt, t3 = t2 + ldt;
        c00.intoArray(tile, t0); c01.intoArray(tile, t0 + VL); c02.intoArray(tile, t0 + 2 * VL); c03.intoArray(tile, t0 + 3 * VL);
        c10.intoArray(tile, t1); c11.intoArray(tile, t1 + VL); c12.intoArray(tile, t1 + 2 * VL); c13.intoArray(tile, t1 + 3 * VL);
        c20.intoArray(tile, t2); c21.intoArray(tile, t2 + VL); c22.intoArray(tile, t2 + 2 * VL); c23.intoArray(tile, t2 + 3 * VL);
        c30.intoArray(tile, t3); c31.intoArray(tile, t3 + VL); c32.intoArray(tile, t3 + 2 * VL); c33.intoArray(tile, t3 + 3 * VL);
    }

    /** The register tile for a half-width panel: tile[MR, NR/2] with eight accumulators (rows still NR apart). */
    private static void halfKernel(float[] a, int aBase, int rs, int ds, float[] pb, int bBase, int kc, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00;
        FloatVector c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (int p = 0, ao = aBase; p < kc; p++, ao += ds) {
            int bo = bBase + p * (NR / 2);
            FloatVector b0 = FloatVector.fromArray(S, pb, bo);
            FloatVector b1 = FloatVector.fromArray(S, pb, bo + VL);
            FloatVector x = FloatVector.broadcast(S, a[ao]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ao + rs]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ao + 2 * rs]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ao + 3 * rs]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, VL);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + VL);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + VL);
        c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + VL);
    }

    /** Writes (or adds) the valid rows × cols of a tile into the output; full rows go a vector at a time. */
    private static void flush(float[] tile, float[] out, int cOff, int ldc, int rows, int cols, boolean add) {
        for (int r = 0; r < rows; r++) {
            int o = cOff + r * ldc, t = r * NR, j = 0;
            for (; j + VL <= cols; j += VL) {
                FloatVector v = FloatVector.fromArray(S, tile, t + j);
                if (add) v = v.add(FloatVector.fromArray(S, out, o + j));
                v.intoArray(out, o + j);
            }
            for (; j < cols; j++) out[o + j] = add ? tile[t + j] + out[o + j] : tile[t + j];
        }
    }
}
