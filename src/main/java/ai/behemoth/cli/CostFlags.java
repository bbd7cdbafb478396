package ai.behemoth.cli;

import ai.behemoth.tensor.Peak;
import ai.behemoth.train.Trainer;
import picocli.CommandLine.Option;

/** What a training run's machine costs, for the MFU, energy and money in its summary. */
final class CostFlags {
    @Option(names = "--peak-gflops", paramLabel = "X",
            description = "The machine's FMA peak for MFU, in GFLOP/s (default: measured as behemoth bench peak does, in about a second).")
    Double peakGflops;

    @Option(names = "--watts", paramLabel = "W", description = "Power the machine draws while training, for the energy estimate (default: 0).")
    double watts;

    @Option(names = "--price-kwh", paramLabel = "X", description = "Money per kWh (default: 0).")
    double priceKwh;

    @Option(names = "--price-hour", paramLabel = "X", description = "Money per machine-hour (default: 0).")
    double priceHour;

    /** Peaks measured in this process, by thread count: a machine's peak does not change between runs of a sweep. */
    private static final java.util.Map<Integer, Double> MEASURED = new java.util.concurrent.ConcurrentHashMap<>();

    Trainer.Costing resolve(int threads) {
        for (double v : new double[]{watts, priceKwh, priceHour, peakGflops == null ? 0 : peakGflops})
            if (!(v >= 0)) throw new IllegalArgumentException("--peak-gflops, --watts, --price-kwh and --price-hour must not be negative, got " + v);
        double peak = peakGflops != null ? peakGflops : MEASURED.computeIfAbsent(threads, Peak::fmaGflops);
        return new Trainer.Costing(peak, watts, priceKwh, priceHour);
    }
}
