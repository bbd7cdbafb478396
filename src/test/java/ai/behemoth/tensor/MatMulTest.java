package ai.behemoth.tensor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MatMulTest {
    private final int defaultThreads = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(defaultThreads);
    }

    /** One of the three forms, as the fast kernel and its scalar twin, plus A(i,p) and B(p,j) for the error bound. */
    enum Form {
        AB_T, AB, A_T_B;

        void fast(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int m, int k, int n, boolean acc) {
            switch (this) {
                case AB_T -> MatMul.abT(out, outOff, a, aOff, b, bOff, m, k, n, acc);
                case AB -> MatMul.ab(out, outOff, a, aOff, b, bOff, m, k, n, acc);
                case A_T_B -> MatMul.aTb(out, outOff, a, aOff, b, bOff, m, k, n, acc);
            }
        }

        void scalar(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int m, int k, int n, boolean acc) {
            switch (this) {
                case AB_T -> MatMulScalar.abT(out, outOff, a, aOff, b, bOff, m, k, n, acc);
                case AB -> MatMulScalar.ab(out, outOff, a, aOff, b, bOff, m, k, n, acc);
                case A_T_B -> MatMulScalar.aTb(out, outOff, a, aOff, b, bOff, m, k, n, acc);
            }
        }

        float a(float[] a, int aOff, int m, int k, int i, int p) {
            return this == A_T_B ? a[aOff + p * m + i] : a[aOff + i * k + p];
        }

        float b(float[] b, int bOff, int k, int n, int p, int j) {
            return this == AB_T ? b[bOff + j * k + p] : b[bOff + p * n + j];
        }
    }

    private static float[] random(Random rng, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = rng.nextFloat() * 2 - 1;
        return x;
    }

    /** Checks the fast kernel against the scalar twin on one shape; returns nothing, asserts everything. */
    private static void check(Form form, int m, int k, int n, boolean accumulate, long seed) {
        Random rng = new Random(seed);
        int aOff = rng.nextInt(5), bOff = rng.nextInt(5), outOff = rng.nextInt(5), tail = 3;
        float[] a = random(rng, aOff + m * k + tail);
        float[] b = random(rng, bOff + k * n + tail);
        float[] out = random(rng, outOff + m * n + tail);
        float[] expected = out.clone();
        form.fast(out, outOff, a, aOff, b, bOff, m, k, n, accumulate);
        form.scalar(expected, outOff, a, aOff, b, bOff, m, k, n, accumulate);
        String shape = form + " m=" + m + " k=" + k + " n=" + n + " accumulate=" + accumulate;
        for (int x = 0; x < out.length; x++) {
            boolean inside = x >= outOff && x < outOff + m * n;
            if (!inside) {
                assertThat(out[x]).as("%s: element %d outside the output changed", shape, x).isEqualTo(expected[x]);
                continue;
            }
            int i = (x - outOff) / n, j = (x - outOff) % n;
            double magnitude = accumulate ? Math.abs(expected[x]) : 0;
            for (int p = 0; p < k; p++) magnitude += Math.abs((double) form.a(a, aOff, m, k, i, p) * form.b(b, bOff, k, n, p, j));
            double tolerance = 4 * (k + 2) * Math.ulp(1f) * magnitude + 1e-30;
            assertThat((double) out[x]).as("%s: out[%d][%d]", shape, i, j).isCloseTo(expected[x], org.assertj.core.data.Offset.offset(tolerance));
        }
    }

    @Test
    void matchesTheScalarTwinOnEdgeShapes() {
        int[][] shapes = {
                {1, 1, 1}, {1, 7, 1}, {1, 1, 19}, {3, 1, 2}, {2, 5, 3}, {4, 16, 16}, {5, 17, 33}, {7, 3, 65},
                {MatMul.MR, 8, MatMul.NR}, {MatMul.MR + 1, 9, MatMul.NR + 1}, {MatMul.MC + 3, 12, MatMul.NC + 5},
                {9, MatMul.KC + 37, 20}, {13, 2 * MatMul.KC + 1, 70}, {64, 32, 128}, {33, 100, 47},
                {9, 40, MatMul.NR / 2}, {6, 20, MatMul.NR + MatMul.NR / 2}, {5, 11, MatMul.NR / 2 + 1},
        };
        long seed = 1;
        for (Form form : Form.values()) {
            for (int[] s : shapes) {
                check(form, s[0], s[1], s[2], false, seed++);
                check(form, s[0], s[1], s[2], true, seed++);
            }
        }
    }

    /** Copies rows × cols floats laid out {@code ld} apart from {@code off} into a dense array. */
    private static float[] dense(float[] x, int off, int rows, int cols, int ld) {
        float[] d = new float[rows * cols];
        for (int r = 0; r < rows; r++) System.arraycopy(x, off + r * ld, d, r * cols, cols);
        return d;
    }

    @Test
    void stridedOperandsMatchTheTwinOnDenseCopiesAndLeaveTheGapsAlone() {
        int[][] shapes = {{5, 7, 9}, {MatMul.MR * 3, 40, MatMul.NR + 3}, {MatMul.MC + 1, MatMul.KC + 2, 33}};
        long seed = 100;
        for (Form form : Form.values()) {
            for (int[] s : shapes) {
                for (boolean accumulate : new boolean[]{false, true}) {
                    int m = s[0], k = s[1], n = s[2];
                    Random rng = new Random(seed++);
                    // a is stored [rowsA, colsA] and b [rowsB, colsB], each row padded by a gap
                    int rowsA = form == Form.A_T_B ? k : m, colsA = form == Form.A_T_B ? m : k;
                    int rowsB = form == Form.AB_T ? n : k, colsB = form == Form.AB_T ? k : n;
                    int lda = colsA + 3, ldb = colsB + 2, ldOut = n + 5, aOff = 1, bOff = 2, outOff = 3;
                    float[] a = random(rng, aOff + rowsA * lda), b = random(rng, bOff + rowsB * ldb);
                    float[] out = random(rng, outOff + m * ldOut);
                    float[] before = out.clone();
                    switch (form) {
                        case AB_T -> MatMul.abT(out, outOff, ldOut, a, aOff, lda, b, bOff, ldb, m, k, n, accumulate);
                        case AB -> MatMul.ab(out, outOff, ldOut, a, aOff, lda, b, bOff, ldb, m, k, n, accumulate);
                        case A_T_B -> MatMul.aTb(out, outOff, ldOut, a, aOff, lda, b, bOff, ldb, m, k, n, accumulate);
                    }
                    float[] da = dense(a, aOff, rowsA, colsA, lda), db = dense(b, bOff, rowsB, colsB, ldb);
                    float[] expected = dense(before, outOff, m, n, ldOut);
                    form.scalar(expected, 0, da, 0, db, 0, m, k, n, accumulate);
                    String shape = form + " strided m=" + m + " k=" + k + " n=" + n + " accumulate=" + accumulate;
                    for (int x = 0; x < out.length; x++) {
                        int i = (x - outOff) / ldOut, j = (x - outOff) % ldOut;
                        if (x < outOff || j >= n) {
                            assertThat(out[x]).as("%s: gap element %d changed", shape, x).isEqualTo(before[x]);
                            continue;
                        }
                        double magnitude = accumulate ? Math.abs(before[x]) : 0;
                        for (int p = 0; p < k; p++) magnitude += Math.abs((double) form.a(da, 0, m, k, i, p) * form.b(db, 0, k, n, p, j));
                        double tolerance = 4 * (k + 2) * Math.ulp(1f) * magnitude + 1e-30;
                        assertThat((double) out[x]).as("%s: out[%d][%d]", shape, i, j)
                                .isCloseTo(expected[i * n + j], org.assertj.core.data.Offset.offset(tolerance));
                    }
                }
            }
        }
    }

    @Test
    void rejectsARowStrideShorterThanTheRow() {
        float[] x = new float[100];
        assertThatThrownBy(() -> MatMul.ab(x, 0, 3, x, 0, 4, x, 0, 4, 2, 4, 4, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out: row stride 3 is less than its 4 columns");
    }

    @Test
    void zeroDepthWritesZerosOrLeavesTheOutput() {
        for (Form form : Form.values()) {
            float[] out = {5, 6, 7, 8};
            form.fast(out, 0, new float[0], 0, new float[0], 0, 2, 0, 2, true);
            assertThat(out).containsExactly(5, 6, 7, 8);
            form.fast(out, 0, new float[0], 0, new float[0], 0, 2, 0, 2, false);
            assertThat(out).containsExactly(0, 0, 0, 0);
        }
    }

    @Test
    void resultsAreBitIdenticalForAnyThreadCount() {
        Random rng = new Random(42);
        int m = MatMul.MC + 5, k = MatMul.KC + 3, n = MatMul.NR + 20; // several tasks, two depth blocks, both panel widths
        float[] a = random(rng, m * k), b = random(rng, k * n);
        for (Form form : Form.values()) {
            float[][] results = new float[3][];
            int[] threadCounts = {1, 2, 3};
            for (int t = 0; t < 3; t++) {
                Parallel.setThreads(threadCounts[t]);
                results[t] = new float[m * n];
                form.fast(results[t], 0, a, 0, b, 0, m, k, n, false);
            }
            assertThat(results[1]).as("%s: 2 threads vs 1", form).containsExactly(results[0]);
            assertThat(results[2]).as("%s: 3 threads vs 1", form).containsExactly(results[0]);
        }
    }

    @Test
    void callsFromInsideAParallelLoopMatchCallsOutside() {
        Parallel.setThreads(2);
        Random rng = new Random(7);
        int heads = 6, t = 64, d = 32;
        float[] q = random(rng, heads * t * d), kk = random(rng, heads * t * d);
        float[] inside = new float[heads * t * t], outside = new float[heads * t * t];
        Parallel.forRange(heads, h -> MatMul.abT(inside, h * t * t, q, h * t * d, kk, h * t * d, t, d, t, false));
        for (int h = 0; h < heads; h++) MatMul.abT(outside, h * t * t, q, h * t * d, kk, h * t * d, t, d, t, false);
        assertThat(inside).containsExactly(outside);
    }

    @Test
    void rejectsArraysTooShortOrNegativeSizes() {
        float[] small = new float[10];
        assertThatThrownBy(() -> MatMul.ab(small, 0, small, 0, small, 0, 3, 4, 3, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a needs 3x4 floats");
        assertThatThrownBy(() -> MatMul.abT(small, 5, small, 0, small, 0, 2, 2, 3, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out needs 2x3 floats");
        assertThatThrownBy(() -> MatMul.aTb(small, 0, small, 0, small, 0, -1, 2, 2, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("m=-1");
    }
}
