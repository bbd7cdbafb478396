package ai.behemoth.model;

import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tensor.quant.Quant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The linear-layer product of every weight type against a plain double-precision loop over the dequantised rows. */
class MatrixTest {
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0"})
    void multiplyMatchesAScalarReferenceForAnyNumberOfRows(GgmlType type) {
        int rows = 37, cols = 96; // 37: row blocks with a remainder; 96: vector loops with a tail on 512-bit lanes
        SplittableRandom random = new SplittableRandom(3);
        float[] dense = new float[rows * cols];
        for (int i = 0; i < dense.length; i++) dense[i] = (float) random.nextGaussian();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(rows * type.rowBytes(cols));
            for (int r = 0; r < rows; r++) Quant.quantize(type, dense, r * cols, cols, seg, r * type.rowBytes(cols));
            Matrix m = new Matrix("w", type, seg, rows, cols);
            float[] w = new float[rows * cols];
            for (int r = 0; r < rows; r++) m.row(r, w, r * cols);
            for (int n : new int[]{1, 3, 4, 7, 9}) {
                float[] x = new float[n * cols + 5];
                for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
                float[] out = new float[n * rows + 2];
                m.multiply(x, 5, n, out, 2);
                for (int t = 0; t < n; t++) {
                    for (int r = 0; r < rows; r++) {
                        double expected = 0;
                        for (int i = 0; i < cols; i++) expected += (double) w[r * cols + i] * x[5 + t * cols + i];
                        assertThat((double) out[2 + t * rows + r]).as("n=%d t=%d r=%d", n, t, r).isCloseTo(expected, within(1e-4));
                    }
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void dotAndAxpyMatchScalarLoopsAtAnyOffsetAndLength() {
        SplittableRandom random = new SplittableRandom(4);
        float[] a = new float[200], b = new float[200];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian();
            b[i] = (float) random.nextGaussian();
        }
        for (int n : new int[]{1, 15, 16, 33, 64, 100}) {
            double dot = 0;
            for (int i = 0; i < n; i++) dot += (double) a[3 + i] * b[7 + i];
            assertThat((double) Matrix.dot(a, 3, b, 7, n)).as("n=%d", n).isCloseTo(dot, within(1e-4));
            float[] y = b.clone();
            Matrix.axpy(0.5f, a, 3, y, 7, n);
            for (int i = 0; i < y.length; i++) {
                float expected = i >= 7 && i < 7 + n ? b[i] + 0.5f * a[3 + i - 7] : b[i];
                assertThat(y[i]).as("n=%d i=%d", n, i).isCloseTo(expected, within(1e-6f));
            }
        }
    }
}
