package ai.behemoth.tensor;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PeakTest {
    @Test
    void fmaThroughputIsAPositiveFiniteRate() {
        double gflops = Peak.fmaGflops(1);
        assertThat(gflops).isPositive().isLessThan(1e6);
    }

    @Test
    void rejectsAThreadCountBelowOne() {
        assertThatThrownBy(() -> Peak.fmaGflops(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got 0");
        assertThatThrownBy(() -> Peak.memoryGBs(-2)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got -2");
    }
}
