package ai.behemoth.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BenchGemmCommandTest {
    @Test
    void aBadShapeIsAUsageErrorNamingIt() {
        MainTest.Run r = MainTest.run("bench", "gemm", "--sizes", "64,12x0x5");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--sizes: '12x0x5'");
    }

    @Test
    void aThreadCountBelowOneIsAUsageError() {
        MainTest.Run r = MainTest.run("bench", "peak", "--threads", "0");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--threads must be at least 1, got 0");
    }
}
