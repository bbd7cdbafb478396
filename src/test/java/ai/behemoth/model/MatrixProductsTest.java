package ai.behemoth.model;

import ai.behemoth.tensor.Parallel;
import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tensor.quant.Quant;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Products run as one job give every output the bits of {@link Matrix#multiply} run alone, at any thread count. */
class MatrixProductsTest {
    private static Matrix matrix(Arena arena, String name, GgmlType type, int rows, int cols, SplittableRandom random) {
        float[] dense = new float[rows * cols];
        for (int i = 0; i < dense.length; i++) dense[i] = (float) random.nextGaussian();
        MemorySegment seg = arena.allocate(rows * type.rowBytes(cols));
        for (int r = 0; r < rows; r++) Quant.quantize(type, dense, r * cols, cols, seg, r * type.rowBytes(cols));
        return new Matrix(name, type, seg, rows, cols);
    }

    @Test
    void aJobOfProductsEqualsEachProductAloneBitForBit() {
        SplittableRandom random = new SplittableRandom(9);
        int threadsBefore = Parallel.threads();
        try (Arena arena = Arena.ofShared()) {
            // 37 and 21 rows: row blocks and four-row groups with remainders; the last product takes the many-row path.
            Matrix a = matrix(arena, "a", GgmlType.Q8_0, 37, 64, random);
            Matrix b = matrix(arena, "b", GgmlType.Q4_0, 21, 64, random);
            Matrix c = matrix(arena, "c", GgmlType.F32, 16, 96, random);
            int[] inputRows = {1, 3, 5};
            Matrix[] ms = {a, b, c};
            float[][] in = new float[3][], alone = new float[3][], together = new float[3][];
            for (int p = 0; p < 3; p++) {
                in[p] = new float[inputRows[p] * ms[p].cols() + 2];
                for (int i = 0; i < in[p].length; i++) in[p][i] = (float) random.nextGaussian();
                alone[p] = new float[inputRows[p] * ms[p].rows() + 1];
                ms[p].multiply(in[p], 2, inputRows[p], alone[p], 1);
            }
            MatrixProducts job = new MatrixProducts(3);
            for (int threads : new int[]{1, 2, 3}) {
                Parallel.setThreads(threads);
                for (int p = 0; p < 3; p++) {
                    together[p] = new float[alone[p].length];
                    job.add(ms[p], in[p], 2, inputRows[p], together[p], 1);
                }
                job.run();
                for (int p = 0; p < 3; p++)
                    assertThat(together[p]).as("product %s, %d threads", ms[p].name(), threads).isEqualTo(alone[p]);
            }
        } finally {
            Parallel.setThreads(threadsBefore);
        }
    }

    @Test
    void manyRowProductsThatShareTheirInputRowsEqualEachProductAloneBitForBit() {
        SplittableRandom random = new SplittableRandom(13);
        int threadsBefore = Parallel.threads();
        try (Arena arena = Arena.ofShared()) {
            // wq, wk and wv of a prompt chunk read the same rows (packed once); an expert's rows follow at an offset of the
            // same array and as many (packed apart), and a product of 2 rows in the same job takes the row-block path.
            Matrix wq = matrix(arena, "wq", GgmlType.Q8_0, 40, 64, random);
            Matrix wk = matrix(arena, "wk", GgmlType.Q4_0, 13, 64, random);
            Matrix wv = matrix(arena, "wv", GgmlType.F32, 21, 64, random);
            Matrix expert = matrix(arena, "expert", GgmlType.Q4_0, 9, 64, random);
            Matrix[] ms = {wq, wk, wv, expert, wk};
            int[] xOff = {5, 5, 5, 5 + 30 * 64, 5 + 50 * 64}, n = {30, 30, 30, 30, 2};
            float[] x = new float[5 + 60 * 64];
            for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
            float[][] alone = new float[ms.length][];
            for (int p = 0; p < ms.length; p++) {
                alone[p] = new float[n[p] * ms[p].rows() + 3];
                ms[p].multiply(x, xOff[p], n[p], alone[p], 3);
            }
            MatrixProducts job = new MatrixProducts(ms.length);
            for (int threads : new int[]{1, 2, 3}) {
                Parallel.setThreads(threads);
                float[][] together = new float[ms.length][];
                for (int p = 0; p < ms.length; p++) {
                    together[p] = new float[alone[p].length];
                    job.add(ms[p], x, xOff[p], n[p], together[p], 3);
                }
                job.run();
                for (int p = 0; p < ms.length; p++)
                    assertThat(together[p]).as("product %d (%s), %d threads", p, ms[p].name(), threads).isEqualTo(alone[p]);
            }
        } finally {
            Parallel.setThreads(threadsBefore);
        }
    }

    /**
     * With 8-bit activations: products that share their input rows (quantised once, in a parallel job
     * from 8 rows on), products over other rows, an exact matrix and a SwiGLU pair in one job, each with
     * the bits of the product alone, at every thread count.
     */
    @Test
    void eightBitActivationProductsInOneJobEqualEachProductAloneBitForBit() {
        SplittableRandom random = new SplittableRandom(17);
        int threadsBefore = Parallel.threads();
        try (Arena arena = Arena.ofShared()) {
            Matrix wq = matrix(arena, "wq", GgmlType.Q4_0, 64, 64, random).withQ8Activations(arena);
            Matrix wk = matrix(arena, "wk", GgmlType.Q8_0, 32, 64, random).withQ8Activations(arena);
            Matrix wv = matrix(arena, "wv", GgmlType.F32, 21, 64, random).withQ8Activations(arena); // stays exact
            Matrix gate = matrix(arena, "gate", GgmlType.Q4_0, 96, 64, random).withQ8Activations(arena);
            Matrix up = matrix(arena, "up", GgmlType.Q4_0, 96, 64, random).withQ8Activations(arena);
            assertThat(wq.q8Groups()).isNotNull();
            assertThat(wv.q8Groups()).isNull();
            for (int rows : new int[]{1, 3, 9}) {
                float[] x = new float[5 + 2 * rows * 64];
                for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
                Matrix[] ms = {wq, wk, wv};
                float[][] alone = new float[ms.length][];
                for (int p = 0; p < ms.length; p++) {
                    alone[p] = new float[rows * ms[p].rows()];
                    ms[p].multiply(x, 5, rows, alone[p], 0);
                }
                float[] g = new float[rows * 96], u = new float[rows * 96];
                gate.multiply(x, 5 + rows * 64, rows, g, 0);
                up.multiply(x, 5 + rows * 64, rows, u, 0);
                MatrixProducts job = new MatrixProducts(4);
                for (int threads : new int[]{1, 2, 3}) {
                    Parallel.setThreads(threads);
                    float[][] together = new float[ms.length][];
                    for (int p = 0; p < ms.length; p++) {
                        together[p] = new float[alone[p].length];
                        job.add(ms[p], x, 5, rows, together[p], 0);
                    }
                    float[] h = new float[rows * 96], upOut = new float[rows * 96];
                    job.addSwiGlu(gate, up, x, 5 + rows * 64, rows, h, 0, upOut, 0);
                    job.run();
                    for (int p = 0; p < ms.length; p++)
                        assertThat(together[p]).as("%s, %d rows, %d threads", ms[p].name(), rows, threads).isEqualTo(alone[p]);
                    assertThat(upOut).as("up, %d rows, %d threads", rows, threads).isEqualTo(u);
                    float[] expectedH = g.clone();
                    MatrixProducts.siluTimes(expectedH, 0, u, 0, expectedH.length);
                    assertThat(h).as("silu(gate)·up, %d rows, %d threads", rows, threads).isEqualTo(expectedH);
                }
            }
        } finally {
            Parallel.setThreads(threadsBefore);
        }
    }

    /**
     * A SwiGLU pair: the up product with the bits of the product alone, and silu(g)·u within float
     * rounding of g·u/(1 + e^−g) in double (the sigmoid is a polynomial exp, within 3e-7), with the
     * same bits at every thread count.
     */
    @Test
    void aSwiGluPairGivesSiluOfGateTimesUpOfTheProductsAlone() {
        SplittableRandom random = new SplittableRandom(11);
        int threadsBefore = Parallel.threads();
        try (Arena arena = Arena.ofShared()) {
            // 37 rows: a last row block of 5 and a last row group of 5; 1 and 2 input rows take the row-block path, 5 and 30 the many-row path.
            Matrix gate = matrix(arena, "gate", GgmlType.Q4_0, 37, 64, random);
            Matrix up = matrix(arena, "up", GgmlType.Q8_0, 37, 64, random);
            for (int n : new int[]{1, 2, 5, 30}) {
                float[] x = new float[n * 64 + 3];
                for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
                float[] g = new float[n * 37], u = new float[n * 37];
                gate.multiply(x, 3, n, g, 0);
                up.multiply(x, 3, n, u, 0);
                float[] first = null;
                for (int threads : new int[]{1, 2, 3}) {
                    Parallel.setThreads(threads);
                    float[] h = new float[n * 37 + 2], upOut = new float[n * 37 + 1];
                    MatrixProducts job = new MatrixProducts(2);
                    job.addSwiGlu(gate, up, x, 3, n, h, 2, upOut, 1);
                    job.run();
                    for (int i = 0; i < g.length; i++) {
                        double expected = g[i] / (1 + Math.exp(-(double) g[i])) * u[i];
                        assertThat((double) h[2 + i]).as("%d input rows, %d threads, value %d", n, threads, i)
                                .isCloseTo(expected, within(6e-7 * Math.abs(expected) + 1e-30));
                    }
                    assertThat(h[0]).isZero();
                    assertThat(h[1]).isZero();
                    if (first == null) first = h;
                    assertThat(h).as("%d input rows, %d threads against 1", n, threads).isEqualTo(first);
                    assertThat(Arrays.copyOfRange(upOut, 1, upOut.length)).as("up, %d input rows, %d threads", n, threads).isEqualTo(u);
                }
            }
        } finally {
            Parallel.setThreads(threadsBefore);
        }
    }

    /**
     * Several SwiGLU pairs (many and few input rows, over one activation task of outputs) and a plain
     * product in one job, as the experts of a layer: each against its products run alone.
     */
    @Test
    void swiGluPairsOfManyAndFewRowsInOneJobMatchTheirProductsAlone() {
        SplittableRandom random = new SplittableRandom(19);
        int threadsBefore = Parallel.threads();
        try (Arena arena = Arena.ofShared()) {
            Matrix[] gates = new Matrix[3], ups = new Matrix[3];
            for (int e = 0; e < 3; e++) {
                gates[e] = matrix(arena, "gate" + e, GgmlType.Q8_0, 1100 + 3 * e, 64, random); // over one activation chunk of outputs
                ups[e] = matrix(arena, "up" + e, GgmlType.Q4_0, 1100 + 3 * e, 64, random);
            }
            Matrix plain = matrix(arena, "plain", GgmlType.F32, 19, 64, random);
            int[] n = {9, 2, 17};
            float[] x = new float[64 * 40];
            for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
            float[][] alone = new float[4][], aloneUp = new float[3][];
            for (int e = 0; e < 3; e++) { // the products alone; the activation in double
                alone[e] = new float[n[e] * gates[e].rows()];
                aloneUp[e] = new float[alone[e].length];
                gates[e].multiply(x, 64 * e, n[e], alone[e], 0);
                ups[e].multiply(x, 64 * e, n[e], aloneUp[e], 0);
            }
            alone[3] = new float[6 * 19];
            plain.multiply(x, 64, 6, alone[3], 0);
            MatrixProducts job = new MatrixProducts(4);
            float[][] first = new float[3][];
            for (int threads : new int[]{1, 2, 3}) {
                Parallel.setThreads(threads);
                float[][] h = new float[4][], u = new float[3][];
                for (int e = 0; e < 3; e++) {
                    h[e] = new float[alone[e].length];
                    u[e] = new float[alone[e].length];
                    job.addSwiGlu(gates[e], ups[e], x, 64 * e, n[e], h[e], 0, u[e], 0);
                }
                h[3] = new float[alone[3].length];
                job.add(plain, x, 64, 6, h[3], 0);
                job.run();
                assertThat(h[3]).as("plain product, %d threads", threads).isEqualTo(alone[3]);
                for (int e = 0; e < 3; e++) {
                    assertThat(u[e]).as("up %d, %d threads", e, threads).isEqualTo(aloneUp[e]);
                    for (int i = 0; i < h[e].length; i++) {
                        double g = alone[e][i], expected = g / (1 + Math.exp(-g)) * aloneUp[e][i];
                        assertThat((double) h[e][i]).as("pair %d value %d, %d threads", e, i, threads)
                                .isCloseTo(expected, within(6e-7 * Math.abs(expected) + 1e-30));
                    }
                    if (first[e] == null) first[e] = h[e];
                    assertThat(h[e]).as("pair %d, %d threads against 1", e, threads).isEqualTo(first[e]);
                }
            }
        } finally {
            Parallel.setThreads(threadsBefore);
        }
    }
}
