package ai.behemoth.tensor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ParallelTest {
    private final int defaultThreads = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(defaultThreads);
    }

    @Test
    void everyIndexRunsExactlyOnceForAnyThreadCount() {
        for (int threads : new int[]{1, 2, 3, 5}) {
            Parallel.setThreads(threads);
            for (int n : new int[]{0, 1, 2, 7, 1000}) {
                AtomicIntegerArray count = new AtomicIntegerArray(n);
                for (int repeat = 0; repeat < 20; repeat++) Parallel.forRange(n, count::incrementAndGet);
                for (int i = 0; i < n; i++) assertThat(count.get(i)).as("threads=%d n=%d i=%d", threads, n, i).isEqualTo(20);
            }
        }
    }

    @Test
    void usesMoreThanOneThreadWhenAsked() {
        Parallel.setThreads(2);
        java.util.Set<Thread> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        for (int repeat = 0; repeat < 200 && seen.size() < 2; repeat++) {
            Parallel.forRange(64, i -> {
                seen.add(Thread.currentThread());
                long until = System.nanoTime() + 20_000;
                while (System.nanoTime() < until) Thread.onSpinWait();
            });
        }
        assertThat(seen).hasSize(2);
    }

    @Test
    void nestedCallsRunInlineAndCoverEveryPair() {
        Parallel.setThreads(2);
        int outer = 13, inner = 17;
        AtomicIntegerArray count = new AtomicIntegerArray(outer * inner);
        Parallel.forRange(outer, i -> {
            Thread self = Thread.currentThread();
            Parallel.forRange(inner, j -> {
                assertThat(Thread.currentThread()).isSameAs(self);
                count.incrementAndGet(i * inner + j);
            });
        });
        for (int x = 0; x < outer * inner; x++) assertThat(count.get(x)).isEqualTo(1);
    }

    @Test
    void anExceptionInABodyReachesTheCallerAndThePoolStaysUsable() {
        Parallel.setThreads(2);
        assertThatThrownBy(() -> Parallel.forRange(100, i -> {
            if (i == 37) throw new IllegalStateException("boom at " + i);
        })).isInstanceOf(IllegalStateException.class).hasMessage("boom at 37");
        AtomicIntegerArray count = new AtomicIntegerArray(50);
        Parallel.forRange(50, count::incrementAndGet);
        for (int i = 0; i < 50; i++) assertThat(count.get(i)).isEqualTo(1);
    }

    @Test
    void callsFromTwoOutsideThreadsBothComplete() throws Exception {
        Parallel.setThreads(2);
        AtomicIntegerArray count = new AtomicIntegerArray(2 * 500);
        Thread[] callers = new Thread[2];
        for (int c = 0; c < 2; c++) {
            int base = c * 500;
            callers[c] = new Thread(() -> {
                for (int repeat = 0; repeat < 50; repeat++) Parallel.forRange(500, i -> count.incrementAndGet(base + i));
            });
            callers[c].start();
        }
        for (Thread t : callers) t.join(10_000);
        for (int i = 0; i < 1000; i++) assertThat(count.get(i)).isEqualTo(50);
    }

    @Test
    void rejectsAThreadCountBelowOne() {
        assertThatThrownBy(() -> Parallel.setThreads(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0");
    }
}
