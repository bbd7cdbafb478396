package ai.behemoth.cost;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What one finished (or running) training run cost: its utilisation of the machine's peak, the
 * energy it drew and the money that came to. The peak is {@code behemoth bench peak}'s measured
 * FMA throughput; watts and prices are the user's flags.
 *
 * @param flops      training FLOPs done ({@link TrainingFlops#perToken} × tokens)
 * @param seconds    wall-clock seconds of training
 * @param peakGflops the machine's measured peak in GFLOP/s, or 0 when unknown
 * @param watts      power drawn by the machine while training
 * @param priceKwh   money per kWh
 * @param priceHour  money per machine-hour
 */
public record RunCost(double flops, double seconds, double peakGflops,
                      double watts, double priceKwh, double priceHour) {

    public RunCost {
        if (!(flops >= 0) || !(seconds >= 0) || !(peakGflops >= 0) || !(watts >= 0) || !(priceKwh >= 0) || !(priceHour >= 0))
            throw new IllegalArgumentException("run cost figures must be finite and not negative: flops " + flops
                    + ", seconds " + seconds + ", peak " + peakGflops + ", watts " + watts
                    + ", price per kWh " + priceKwh + ", price per hour " + priceHour);
    }

    /** Achieved GFLOP/s over the run. */
    public double gflopsPerSecond() {
        return seconds > 0 ? flops / seconds / 1e9 : 0;
    }

    /** Model FLOPs utilisation against the measured peak; NaN when the peak is unknown. */
    public double mfu() {
        return peakGflops > 0 ? gflopsPerSecond() / peakGflops : Double.NaN;
    }

    public double kwh() {
        return watts * seconds / 3600 / 1000;
    }

    public double cost() {
        return seconds / 3600 * priceHour + kwh() * priceKwh;
    }

    /**
     * Adds this run's figures to a {@code summary} event of {@code metrics.jsonl} under the names the
     * run report reads: {@code flops}, {@code seconds}, {@code gflops_per_s}, {@code mfu} and
     * {@code peak_gflops} (when the peak is known), {@code watts}, {@code kwh}, {@code cost}.
     */
    public ObjectNode putInto(ObjectNode summary) {
        summary.put("flops", flops).put("seconds", seconds).put("gflops_per_s", gflopsPerSecond());
        if (peakGflops > 0) summary.put("mfu", mfu()).put("peak_gflops", peakGflops);
        return summary.put("watts", watts).put("kwh", kwh()).put("cost", cost());
    }
}
