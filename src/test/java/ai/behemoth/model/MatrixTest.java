package ai.behemoth.model;

import ai.behemoth.tensor.Parallel;
import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tensor.quant.Q8Activations;
import ai.behemoth.tensor.quant.Q8Products;
import ai.behemoth.tensor.quant.Quant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The linear-layer product of every weight type against a plain double-precision loop over the dequantised rows; with 8-bit activations, against the scalar twin. */
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

    @Test
    void dotMatchesAScalarLoopAtAnyOffsetAndLength() {
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
        }
    }

    /**
     * With 8-bit activations a matrix's products over any number of input rows, and a slice's (one
     * expert of a stacked tensor), give each row the bits of {@link Q8Products#multiplyScalar} on the
     * file's rows (Q4_K, Q5_K and Q6_K from random bytes: Behemoth only reads them).
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void q8ActivationsGiveTheScalarTwinsBits(GgmlType type) {
        int rows = 3 * Q8Products.G, cols = 512;
        SplittableRandom random = new SplittableRandom(7);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(rows * type.rowBytes(cols), 64);
            if (type.blockSize == 256) { // d (and Q4_K's dmin) set, the rest random
                for (long i = 0; i < seg.byteSize(); i++) seg.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(256));
                for (long b = 0; b < seg.byteSize() / type.blockBytes; b++) {
                    long at = (long) type.blockBytes * b;
                    seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, type == GgmlType.Q6_K ? at + 208 : at, Float.floatToFloat16(0.01f));
                    if (type != GgmlType.Q6_K) seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + 2, Float.floatToFloat16(0.003f));
                }
            } else {
                float[] dense = new float[rows * cols];
                for (int i = 0; i < dense.length; i++) dense[i] = (float) random.nextGaussian();
                for (int r = 0; r < rows; r++) Quant.quantize(type, dense, r * cols, cols, seg, r * type.rowBytes(cols));
            }
            Matrix m = new Matrix("w", type, seg, rows, cols).withQ8Activations(arena);
            Matrix expert = m.slice(Q8Products.G, 2 * Q8Products.G);
            assertThat(m.q8Groups()).isNotNull();
            assertThat(expert.q8Groups()).isNotNull();
            for (int n : new int[]{1, 3, 6}) {
                float[] x = new float[n * cols + 5];
                for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
                Q8Activations a = new Q8Activations();
                a.quantize(x, 5, n, cols);
                float[] out = new float[n * rows + 2], sliced = new float[n * expert.rows()];
                m.multiply(x, 5, n, out, 2);
                expert.multiply(x, 5, n, sliced, 0);
                for (int t = 0; t < n; t++) {
                    float[] expected = new float[rows];
                    Q8Products.multiplyScalar(type, seg, 0, rows, cols, a, t, expected, 0);
                    if (m.byRowBlocks(n)) // else (the K types over many rows) the exact float products
                        assertThat(Arrays.copyOfRange(out, 2 + t * rows, 2 + (t + 1) * rows)).as("n=%d t=%d", n, t).isEqualTo(expected);
                    if (expert.byRowBlocks(n))
                        assertThat(Arrays.copyOfRange(sliced, t * expert.rows(), (t + 1) * expert.rows()))
                                .isEqualTo(Arrays.copyOfRange(expected, Q8Products.G, 3 * Q8Products.G));
                }
            }
        }
    }

    /**
     * Row blocks grow with the rows and shrink with the threads; at any thread count they cover the
     * rows once, in order, in whole groups of 32 but for the last.
     */
    @Test
    void rowBlocksCoverTheRowsAndShrinkWithTheThreads() {
        int rows = 1201, cols = 64;
        int threadsBefore = Parallel.threads();
        try {
            Matrix m = new Matrix("w", GgmlType.F32, MemorySegment.ofArray(new float[rows * cols]), rows, cols);
            int previousBlock = Integer.MAX_VALUE;
            for (int threads = 1; threads <= 3; threads++) {
                Parallel.setThreads(threads);
                int next = 0;
                for (int b = 0; b < m.rowBlocks(); b++) {
                    assertThat(m.rowBlockFirst(b)).as("%d threads, block %d", threads, b).isEqualTo(next);
                    if (b < m.rowBlocks() - 1) assertThat(m.rowBlockCount(b) % 32).isZero();
                    next += m.rowBlockCount(b);
                }
                assertThat(next).as("%d threads", threads).isEqualTo(rows);
                assertThat(m.rowBlockRows()).as("%d threads", threads).isLessThan(previousBlock);
                previousBlock = m.rowBlockRows();
            }
        } finally {
            Parallel.setThreads(threadsBefore);
        }
    }

    /**
     * Every row keeps the bits of one call over all the rows, whatever row block it falls in at any
     * thread count, exact or with 8-bit activations, for one input row (a block in one pass) and for
     * two (32 rows at a time).
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void rowsKeepTheirBitsAtAnyThreadCount(boolean q8) {
        int rows = q8 ? 40 * 32 : 1201, cols = 64;
        SplittableRandom random = new SplittableRandom(11);
        int threadsBefore = Parallel.threads();
        try (Arena arena = Arena.ofShared()) {
            GgmlType type = q8 ? GgmlType.Q4_0 : GgmlType.Q8_0;
            float[] dense = new float[rows * cols];
            for (int i = 0; i < dense.length; i++) dense[i] = (float) random.nextGaussian();
            MemorySegment seg = arena.allocate(rows * type.rowBytes(cols));
            for (int r = 0; r < rows; r++) Quant.quantize(type, dense, r * cols, cols, seg, r * type.rowBytes(cols));
            Matrix m = new Matrix("w", type, seg, rows, cols);
            if (q8) m = m.withQ8Activations(arena);
            float[] x = new float[2 * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
            for (int n = 1; n <= 2; n++) {
                float[] first = null;
                for (int threads = 1; threads <= 3; threads++) {
                    Parallel.setThreads(threads);
                    for (int repeat = 0; repeat < 5; repeat++) {
                        float[] out = new float[n * rows];
                        m.multiply(x, 0, n, out, 0);
                        if (first == null) first = out;
                        else assertThat(out).as("%d input rows, %d threads", n, threads).isEqualTo(first);
                    }
                }
                Q8Activations a = new Q8Activations();
                a.quantize(x, 0, n, cols);
                for (int t = 0; t < n; t++) { // against one call over all the rows
                    float[] one = new float[rows];
                    if (q8) Q8Products.multiply(type, m.q8Groups(), 0, rows, cols, a, t, one, 0);
                    else Quant.dotRows(type, seg, 0, type.rowBytes(cols), rows, x, t * cols, cols, one, 0);
                    assertThat(Arrays.copyOfRange(first, t * rows, (t + 1) * rows)).as("input row %d of %d", t, n).isEqualTo(one);
                }
            }
        } finally {
            Parallel.setThreads(threadsBefore);
        }
    }

    /**
     * Bytes held: with an interleaved copy, a mapped Q4_0 or Q8_0 matrix counts only the copy (its
     * pages are released: every product reads the copy); a mapped Q4_K one, whose prompts read the
     * file's rows, or a Q4_0 one on the heap, both.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0", "Q4_K"})
    void bytesCountTheRowsOnlyWhileTheyAreHeld(GgmlType type, @TempDir Path tmp) throws Exception {
        int rows = 2 * Q8Products.G, cols = 256;
        long size = rows * type.rowBytes(cols);
        Path file = tmp.resolve(type + ".bin");
        Files.write(file, new byte[(int) size]);
        try (Arena arena = Arena.ofShared(); var channel = FileChannel.open(file)) {
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            MemorySegment heap = MemorySegment.ofArray(new byte[(int) size]);
            long copy = Q8Products.interleavedBytes(type, rows, cols);
            assertThat(new Matrix("w", type, mapped, rows, cols).bytes()).isEqualTo(size);
            assertThat(new Matrix("w", type, mapped, rows, cols).withQ8Activations(arena).bytes())
                    .as("mapped with its copy").isEqualTo(type == GgmlType.Q4_K ? size + copy : copy);
            assertThat(new Matrix("w", type, heap, rows, cols).withQ8Activations(arena).bytes()).as("on the heap with its copy").isEqualTo(size + copy);
        }
    }

    /** Decode attention's scores, four keys at a time, with the bits of one {@link Matrix#dot} per key. */
    @ParameterizedTest
    @ValueSource(ints = {16, 64, 70})
    void dotsEqualOneDotPerKeyBitForBit(int n) {
        SplittableRandom random = new SplittableRandom(n);
        int stride = 3 * n + 5, keys = 23;
        float[] x = new float[n + 7], k = new float[keys * stride];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        for (int i = 0; i < k.length; i++) k[i] = (float) random.nextGaussian();
        for (int from : new int[]{0, 2}) {
            float[] scores = new float[keys];
            Matrix.dots(x, 7, k, stride, n + 1, n, from, keys - 1, scores);
            for (int t = from; t < keys; t++)
                assertThat(scores[t]).as("n=%d from=%d t=%d", n, from, t).isEqualTo(Matrix.dot(x, 7, k, t * stride + n + 1, n));
        }
    }
}
