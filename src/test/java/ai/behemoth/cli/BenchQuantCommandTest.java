package ai.behemoth.cli;

import ai.behemoth.tensor.quant.GgmlType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The bench's output format and its matrix sizes; its timings are reported, never asserted. */
class BenchQuantCommandTest {
    @Test
    void printsARowForTheTypeWithItsMatrixSize() {
        MainTest.Run r = MainTest.run("bench", "quant", "--types", "Q6_K", "--mib", "1", "--row", "512", "--runs", "1", "--warmup", "0", "--no-peak");
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0).split("\\s+")).containsExactly("type", "rows", "MiB", "GB/s", "Gvalues/s", "GB/cpu-s", "of-peak");
        GgmlType type = GgmlType.Q6_K;
        String[] f = lines.get(1).trim().split("\\s+");
        long rows = (1L << 20) / type.rowBytes(512);
        assertThat(f[0]).isEqualTo(type.name());
        assertThat(Long.parseLong(f[1])).isEqualTo(rows);
        assertThat(Double.parseDouble(f[2])).isCloseTo(rows * type.rowBytes(512) / 1048576.0, within(0.05));
        double gbs = Double.parseDouble(f[3]), gvalues = Double.parseDouble(f[4]);
        assertThat(gbs).isNotNegative();
        assertThat(Double.parseDouble(f[5])).isNotNegative();
        assertThat(f[6]).as("no bandwidth measured, no share").isEqualTo("-");
        // values per byte is fixed by the type: 512 values per rowBytes(512). (Without warm-up on a
        // busy machine a figure can round to 0.00, so the ratio is checked when it is legible.)
        if (gbs >= 0.5)
            assertThat(gvalues / gbs).isCloseTo(512.0 / type.rowBytes(512), within(0.05 * 512.0 / type.rowBytes(512)));
    }

    @Test
    void rejectsRowsThatAreNotWholeSuperBlocks() {
        MainTest.Run r = MainTest.run("bench", "quant", "--row", "300");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo("behemoth: error: --row must be a positive multiple of 256, got 300");
    }
}
