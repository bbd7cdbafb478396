package ai.behemoth.cost;

/**
 * A training run to project: what is trained, on what, and at what price. The rate each
 * accelerator achieves is either {@code mfu × peak} or, when {@code achievedTflops > 0}, that
 * measured figure (Meta reported Behemoth's as 390 TFLOP/s per GPU, not as an MFU).
 *
 * @param totalParams    all parameters (every expert); reported, not used in the FLOP count
 * @param activeParams   parameters each token passes through (shared weights plus top-k experts)
 * @param tokens         training tokens
 * @param accelerator    the hardware
 * @param precision      number format of the matrix products, which sets the peak
 * @param mfu            model FLOPs utilisation, in (0, 1]
 * @param achievedTflops measured rate per accelerator in TFLOP/s, or 0 to use {@code mfu × peak}
 * @param count          accelerators working together
 * @param watts          power per accelerator
 * @param pue            datacenter power usage effectiveness (1 = accelerators only)
 * @param priceKwh       money per kWh drawn
 * @param priceHour      money per accelerator-hour (rent, or amortised purchase)
 */
public record TrainingPlan(double totalParams, double activeParams, double tokens,
                           Accelerator accelerator, Accelerator.Precision precision,
                           double mfu, double achievedTflops, double count,
                           double watts, double pue, double priceKwh, double priceHour) {

    /**
     * The figures, from the usual estimate of 6 FLOPs per active parameter per token
     * (2 in the forward pass, 4 in the backward), which leaves out attention over the context.
     */
    public Projection project() {
        double flops = 6 * activeParams * tokens;
        double tflops = achievedTflops > 0 ? achievedTflops : mfu * accelerator.peakTflops(precision);
        double acceleratorSeconds = flops / (tflops * 1e12);
        double acceleratorHours = acceleratorSeconds / 3600;
        double days = acceleratorHours / count / 24;
        double mwh = acceleratorHours * watts * pue / 1e6;
        double cost = acceleratorHours * priceHour + mwh * 1000 * priceKwh;
        return new Projection(flops, tflops, tflops / accelerator.peakTflops(precision),
                acceleratorHours, days, mwh, cost);
    }

    /**
     * @param flops             total training FLOPs
     * @param tflopsPerAccelerator achieved rate of each accelerator
     * @param mfu               that rate over the accelerator's dense peak at the plan's precision
     * @param acceleratorHours  accelerator-hours of compute
     * @param days              wall-clock days on {@code count} accelerators
     * @param mwh               energy in megawatt-hours, PUE included
     * @param cost              money: accelerator-hours × price per hour + kWh × price per kWh
     */
    public record Projection(double flops, double tflopsPerAccelerator, double mfu,
                             double acceleratorHours, double days, double mwh, double cost) {}
}
