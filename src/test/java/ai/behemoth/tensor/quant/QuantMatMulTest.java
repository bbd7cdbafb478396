package ai.behemoth.tensor.quant;

import ai.behemoth.tensor.Parallel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The prefill product against its definition: every weight row dequantised by the scalar twin, then
 * per output two chains of fused multiply-adds, over the even and the odd depths, added. The kernel
 * promises exactly those bits, so the comparison is exact, on shapes that leave remainders everywhere
 * (weight rows not a multiple of the tile, input rows around the panel widths of 8, 16 and 24 rows
 * on AVX-512, odd depths), at several thread counts.
 */
class QuantMatMulTest {
    private final int defaultThreads = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(defaultThreads);
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void matchesDequantiseThenFusedMultiplyAddLoopsBitForBit(GgmlType type) {
        Random rng = new Random(5 + type.ordinal());
        int cols = type.blockSize == 1 ? 45 : 2 * type.blockSize; // 45: no whole vector of depth is special
        int maxRows = 37;
        byte[] bytes = new byte[3 + (int) (maxRows * type.rowBytes(cols))];
        for (int r = 0; r < maxRows; r++)
            System.arraycopy(QuantTest.randomRow(type, cols, rng), 0, bytes, 3 + (int) (r * type.rowBytes(cols)), (int) type.rowBytes(cols));
        MemorySegment all = MemorySegment.ofArray(bytes).asSlice(3);
        float[] dense = new float[maxRows * cols];
        for (int r = 0; r < maxRows; r++) QuantScalar.dequantize(type, all, r * type.rowBytes(cols), dense, r * cols, cols);

        for (int threads : new int[]{1, 3}) {
            Parallel.setThreads(threads);
            for (int rows : new int[]{1, 8, 13, maxRows}) {
                MemorySegment w = all.asSlice(0, rows * type.rowBytes(cols));
                for (int n : new int[]{1, 4, 5, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 48, 49, 64, 70}) {
                    int xOff = 2, outOff = 3;
                    float[] x = new float[xOff + n * cols + 1];
                    for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
                    float[] out = new float[outOff + n * rows + 4], expected = new float[out.length];
                    java.util.Arrays.fill(out, 7f);
                    java.util.Arrays.fill(expected, 7f);
                    for (int t = 0; t < n; t++) {
                        for (int r = 0; r < rows; r++) {
                            float even = 0, odd = 0; // depths 0, 2, 4, ... and 1, 3, 5, ..., over a zero pair at an odd end
                            double exact = 0, magnitude = 0;
                            for (int p = 0; p < cols + cols % 2; p++) {
                                float a = p < cols ? dense[r * cols + p] : 0f, b = p < cols ? x[xOff + t * cols + p] : 0f;
                                if (p % 2 == 0) even = Math.fma(a, b, even);
                                else odd = Math.fma(a, b, odd);
                                exact += (double) a * b;
                                magnitude += Math.abs((double) a * b);
                            }
                            float s = even + odd;
                            assertThat((double) s).isCloseTo(exact, within(1e-6 * magnitude + 1e-30)); // the reference is a product
                            expected[outOff + t * rows + r] = s;
                        }
                    }
                    QuantMatMul.multiply(type, w, rows, cols, x, xOff, n, out, outOff);
                    assertThat(out).as("%s, %d threads, %d weight rows, %d input rows", type, threads, rows, n).isEqualTo(expected);
                }
            }
        }
    }

    /**
     * The same product, called until the JIT has compiled the kernels (the first calls run
     * interpreted), keeps the bits of the plain loop on every call: one shape per kernel width.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "Q8_0"})
    void keepsItsBitsWhileTheJitCompilesIt(GgmlType type) {
        Random rng = new Random(9);
        int rows = 16, cols = 64;
        byte[] bytes = new byte[(int) (rows * type.rowBytes(cols))];
        for (int r = 0; r < rows; r++)
            System.arraycopy(QuantTest.randomRow(type, cols, rng), 0, bytes, (int) (r * type.rowBytes(cols)), (int) type.rowBytes(cols));
        MemorySegment w = MemorySegment.ofArray(bytes);
        float[] dense = new float[rows * cols];
        QuantScalar.dequantize(type, w, 0, dense, 0, rows * cols);
        for (int n : new int[]{24, 16, 8}) {
            float[] x = new float[n * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
            float[] expected = new float[n * rows], out = new float[n * rows];
            for (int t = 0; t < n; t++) {
                for (int r = 0; r < rows; r++) {
                    float even = 0, odd = 0;
                    for (int p = 0; p < cols; p += 2) {
                        even = Math.fma(dense[r * cols + p], x[t * cols + p], even);
                        odd = Math.fma(dense[r * cols + p + 1], x[t * cols + p + 1], odd);
                    }
                    expected[t * rows + r] = even + odd;
                }
            }
            for (int call = 0; call < 3000; call++) {
                QuantMatMul.multiply(type, w, rows, cols, x, 0, n, out, 0);
                assertThat(out).as("%s, %d input rows, call %d", type, n, call).isEqualTo(expected);
            }
        }
    }
}
