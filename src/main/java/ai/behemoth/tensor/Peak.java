package ai.behemoth.tensor;

/**
 * The machine's measured limits, the denominator of every MFU figure.
 * PLACEHOLDER: the kernels work replaces these bodies with real measurements.
 */
public final class Peak {
    private Peak() {}

    /** Sustained float32 FMA throughput in GFLOP/s (2 FLOPs per FMA) on {@code threads} threads. */
    public static double fmaGflops(int threads) {
        throw new UnsupportedOperationException("peak measurement is not built yet");
    }

    /** Sustained memory read bandwidth in GB/s on {@code threads} threads. */
    public static double memoryGBs(int threads) {
        throw new UnsupportedOperationException("peak measurement is not built yet");
    }
}
