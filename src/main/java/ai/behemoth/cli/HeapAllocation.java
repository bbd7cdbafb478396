package ai.behemoth.cli;

import java.lang.management.ManagementFactory;

/**
 * Heap bytes allocated by the JVM's threads, for the benchmarks. Steady-state kernels should
 * allocate next to nothing: a Vector API call the JIT leaves uninlined in a large method allocates
 * every vector that crosses it, and code not yet compiled allocates every vector it makes, so the
 * figure shows a slowdown the timings alone may hide.
 */
final class HeapAllocation {
    private HeapAllocation() {}

    /** Heap bytes allocated so far by every live thread (the pool's workers too), or −1 where the JVM does not count them. */
    static long allocatedBytes() {
        return ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean threads
                && threads.isThreadAllocatedMemoryEnabled() ? threads.getTotalThreadAllocatedBytes() : -1;
    }
}
