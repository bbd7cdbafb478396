package ai.behemoth.cost;

import org.junit.jupiter.api.Test;

import static ai.behemoth.cost.Accelerator.Precision.BF16;
import static ai.behemoth.cost.Accelerator.Precision.FP8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.withinPercentage;

class TrainingPlanTest {
    @Test
    void projectionMatchesHandArithmetic() {
        // 1B active x 1T tokens on 1000 H100s at 50% of 989.4 TFLOP/s, 700 W, PUE 1.2, 2.00/h, 0.10/kWh.
        // Worked by hand: 6e21 FLOPs / 494.7e12 FLOP/s = 12,128,563 s = 3369.05 accelerator-hours;
        // / 1000 / 24 = 0.140377 days; 3369.05 h x 700 W x 1.2 = 2.830 MWh; 6738.09 + 283.00 = 7021.09.
        var p = new TrainingPlan(7e9, 1e9, 1e12, Accelerator.H100, BF16, 0.5, 0, 1000, 700, 1.2, 0.10, 2.0).project();
        assertThat(p.flops()).isEqualTo(6e21);
        assertThat(p.acceleratorHours()).isCloseTo(3369.045, withinPercentage(1e-4));
        assertThat(p.days()).isCloseTo(0.1403769, withinPercentage(1e-4));
        assertThat(p.mwh()).isCloseTo(2.829998, withinPercentage(1e-4));
        assertThat(p.cost()).isCloseTo(7021.090, withinPercentage(1e-4));
        assertThat(p.mfu()).isCloseTo(0.5, withinPercentage(1e-9));
    }

    @Test
    void achievedRateReplacesMfuAndImpliesIt() {
        var p = new TrainingPlan(2e12, 288e9, 30e12, Accelerator.H100, FP8, 0.4, 390, 32_768, 700, 1, 0, 0).project();
        assertThat(p.tflopsPerAccelerator()).isEqualTo(390);
        assertThat(p.mfu()).isCloseTo(390 / 1978.9, withinPercentage(1e-9));
        // 6 x 288e9 x 30e12 = 5.184e25 FLOPs at 390e12 x 32768 FLOP/s: 46.95 days.
        assertThat(p.days()).isCloseTo(46.950, withinPercentage(0.01));
    }

    @Test
    void fp8DoublesThePeakAndB200IsFasterThanH100() {
        double bf16 = new TrainingPlan(1, 1, 1e12, Accelerator.H100, BF16, 0.4, 0, 1, 700, 1, 0, 0).project().acceleratorHours();
        double fp8 = new TrainingPlan(1, 1, 1e12, Accelerator.H100, FP8, 0.4, 0, 1, 700, 1, 0, 0).project().acceleratorHours();
        double h200 = new TrainingPlan(1, 1, 1e12, Accelerator.H200, BF16, 0.4, 0, 1, 700, 1, 0, 0).project().acceleratorHours();
        double b200 = new TrainingPlan(1, 1, 1e12, Accelerator.B200, BF16, 0.4, 0, 1, 1000, 1, 0, 0).project().acceleratorHours();
        assertThat(fp8).isCloseTo(bf16 * 989.4 / 1978.9, withinPercentage(1e-9));
        assertThat(h200).isEqualTo(bf16);
        assertThat(b200).isCloseTo(bf16 * 989.4 / 2250, withinPercentage(1e-9));
    }

    @Test
    void runCostFromSecondsAndWatts() {
        // 1.8e15 FLOPs in 3600 s = 500 GFLOP/s; of a 1000 GFLOP/s peak, 50%; 200 W for an hour = 0.2 kWh.
        RunCost c = new RunCost(1.8e15, 3600, 1000, 200, 0.5, 3.0);
        assertThat(c.gflopsPerSecond()).isCloseTo(500, withinPercentage(1e-9));
        assertThat(c.mfu()).isCloseTo(0.5, withinPercentage(1e-9));
        assertThat(c.kwh()).isCloseTo(0.2, withinPercentage(1e-9));
        assertThat(c.cost()).isCloseTo(3.0 + 0.1, withinPercentage(1e-9));
        assertThat(new RunCost(1, 1, 0, 0, 0, 0).mfu()).isNaN();
        var summary = c.putInto(new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode());
        assertThat(summary.get("mfu").asDouble()).isCloseTo(0.5, withinPercentage(1e-9));
        assertThat(summary.get("kwh").asDouble()).isCloseTo(0.2, withinPercentage(1e-9));
        assertThat(summary.get("flops").asDouble()).isEqualTo(1.8e15);
        assertThat(new RunCost(1, 1, 0, 0, 0, 0).putInto(new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode())
                .has("mfu")).isFalse();
    }
}
