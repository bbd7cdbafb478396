package ai.behemoth.train;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BatchesTest {
    /** stream[i] = i, so a window's tokens say where it starts. */
    static int[] counting(int n) {
        int[] s = new int[n];
        for (int i = 0; i < n; i++) s[i] = i;
        return s;
    }

    @Test
    void aTrainingBatchIsAPureFunctionOfSeedAndStep() {
        Batches b = new Batches(4, 8);
        int[] stream = counting(1000);
        assertThat(b.train(stream, 42, 7).tokens()).isEqualTo(new Batches(4, 8).train(stream, 42, 7).tokens());
        assertThat(b.train(stream, 42, 7).tokens()).isNotEqualTo(b.train(stream, 42, 8).tokens());
        assertThat(b.train(stream, 42, 7).tokens()).isNotEqualTo(b.train(stream, 43, 7).tokens());
    }

    @Test
    void windowsAreContiguousInBoundsAndTargetsAreShiftedByOne() {
        Batches b = new Batches(5, 6);
        int[] stream = counting(40);
        for (int step = 1; step <= 200; step++) {
            Batches.Batch batch = b.train(stream, 1, step);
            for (int w = 0; w < 5; w++) {
                int start = batch.tokens()[w * 6];
                assertThat(start).isBetween(0, 40 - 7);
                for (int t = 0; t < 6; t++) {
                    assertThat(batch.tokens()[w * 6 + t]).isEqualTo(start + t);
                    assertThat(batch.targets()[w * 6 + t]).isEqualTo(start + t + 1);
                }
            }
        }
    }

    @Test
    void startsCoverTheWholeStream() {
        Batches b = new Batches(8, 4);
        int[] stream = counting(20);
        boolean[] seen = new boolean[16];
        for (int step = 1; step <= 100; step++) for (int w = 0; w < 8; w++) seen[b.train(stream, 3, step).tokens()[w * 4]] = true;
        for (int s = 0; s < 16; s++) assertThat(seen[s]).as("start %d", s).isTrue();
    }

    @Test
    void validationWindowsAreFixedAndSpreadFromTheFirstToTheLastStart() {
        Batches b = new Batches(2, 10);
        int[] stream = counting(101);
        Batches.Batch first = b.validation(stream, 0, 3), last = b.validation(stream, 2, 3);
        assertThat(first.tokens()[0]).isZero();
        assertThat(last.tokens()[10]).isEqualTo(101 - 11);
        assertThat(last.targets()[19]).isEqualTo(100);
        assertThat(b.validation(stream, 1, 3).tokens()).isEqualTo(new Batches(2, 10).validation(stream, 1, 3).tokens());
        assertThat(b.validation(stream, 1, 3).tokens()[0]).isEqualTo(36); // window 2 of 6: 90·2/5
    }

    @Test
    void disjointWindowsTileTheStreamFromItsStart() {
        Batches b = new Batches(4, 10);
        int[] stream = counting(95); // 9 windows of 10 (+1 target); the last 4 tokens are left out
        assertThat(b.disjointWindows(stream)).isEqualTo(9);
        Batches.Batch first = b.disjoint(stream, 0, 4), last = b.disjoint(stream, 8, 1);
        assertThat(first.batch()).isEqualTo(4);
        for (int i = 0; i < 40; i++) {
            assertThat(first.tokens()[i]).isEqualTo(i);
            assertThat(first.targets()[i]).isEqualTo(i + 1);
        }
        assertThat(last.batch()).isEqualTo(1);
        assertThat(last.tokens()).containsExactly(80, 81, 82, 83, 84, 85, 86, 87, 88, 89);
        assertThat(last.targets()[9]).isEqualTo(90);
        assertThatThrownBy(() -> b.disjoint(stream, 8, 2)).hasMessageContaining("9 windows");
        assertThatThrownBy(() -> b.disjoint(stream, 0, 5)).hasMessageContaining("batch of 4");
    }

    @Test
    void aStreamShorterThanOneWindowIsRefused() {
        assertThatThrownBy(() -> new Batches(2, 10).train(counting(10), 1, 1))
                .hasMessageContaining("10 tokens").hasMessageContaining("--ctx + 1 = 11");
        assertThat(new Batches(1, 10).train(counting(11), 1, 1).tokens()[0]).isZero();
    }
}
