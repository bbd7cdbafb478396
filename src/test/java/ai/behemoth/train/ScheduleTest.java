package ai.behemoth.train;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ScheduleTest {
    private static final double TOL = 1e-15;

    @Test
    void cosineWarmsUpLinearlyThenFollowsHalfACosineToTheMinimumAtTheLastStep() {
        Schedule s = new Schedule(Schedule.Kind.COSINE, 1e-3, 0.1, 10, 110);
        assertThat(s.at(1)).isCloseTo(1e-4, within(TOL));
        assertThat(s.at(5)).isCloseTo(5e-4, within(TOL));
        assertThat(s.at(10)).isCloseTo(1e-3, within(TOL));
        // 100 cosine steps after warmup: a quarter of the way the cosine is at (1 + cos(pi/4)) / 2
        assertThat(s.at(35)).isCloseTo(1e-4 + 9e-4 * (1 + Math.sqrt(0.5)) / 2, within(TOL));
        assertThat(s.at(60)).isCloseTo(5.5e-4, within(TOL));
        assertThat(s.at(110)).isCloseTo(1e-4, within(TOL));
    }

    @Test
    void wsdHoldsThePeakThenDecaysLinearlyOverTheFinalFifthOfSteps() {
        Schedule s = new Schedule(Schedule.Kind.WSD, 1e-3, 0.1, 10, 100);
        assertThat(s.at(5)).isCloseTo(5e-4, within(TOL));
        assertThat(s.at(50)).isEqualTo(1e-3);
        assertThat(s.at(80)).isEqualTo(1e-3);
        assertThat(s.at(81)).isCloseTo(1e-3 - 9e-4 / 20, within(TOL));
        assertThat(s.at(90)).isCloseTo(5.5e-4, within(TOL));
        assertThat(s.at(100)).isCloseTo(1e-4, within(TOL));
    }

    @Test
    void withoutWarmupTheFirstStepIsAtThePeak() {
        Schedule s = new Schedule(Schedule.Kind.COSINE, 2e-3, 0.0, 0, 50);
        assertThat(s.at(1)).isCloseTo(2e-3 * (1 + Math.cos(Math.PI / 50)) / 2, within(TOL));
        assertThat(s.at(50)).isCloseTo(0, within(TOL));
    }

    @Test
    void badSettingsNameTheFlag() {
        assertThatThrownBy(() -> new Schedule(Schedule.Kind.COSINE, 1e-3, 0.1, 200, 100)).hasMessageContaining("--warmup");
        assertThatThrownBy(() -> new Schedule(Schedule.Kind.COSINE, -1, 0.1, 0, 100)).hasMessageContaining("--lr");
        assertThatThrownBy(() -> new Schedule(Schedule.Kind.WSD, 1e-3, 1.5, 0, 100)).hasMessageContaining("--min-lr-ratio");
        Schedule s = new Schedule(Schedule.Kind.WSD, 1e-3, 0.1, 0, 100);
        assertThatThrownBy(() -> s.at(101)).hasMessageContaining("101");
    }
}
