package ai.behemoth.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ReportCommandTest {
    @TempDir
    Path dir;

    @Test
    void writesTheReportAndSaysWhere() throws IOException {
        Files.write(dir.resolve("metrics.jsonl"), List.of(
                "{\"step\":1,\"train_loss\":5.0,\"lr\":0.001,\"grad_norm\":1.0,\"tokens_per_s\":1000,"
                        + "\"experts\":[{\"layer\":0,\"load\":[0.7,0.3],\"max_vio\":0.4,\"dead\":0}]}",
                "{\"step\":2,\"train_loss\":4.5,\"val_loss\":4.6,\"val_bpb\":6.6,\"lr\":0.001,\"grad_norm\":0.9,\"tokens_per_s\":1010,"
                        + "\"experts\":[{\"layer\":0,\"load\":[0.5,0.5],\"max_vio\":0.0,\"dead\":0}]}"));
        MainTest.Run r = MainTest.run("report", dir.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains(dir.resolve("report.html").toString());
        assertThat(dir.resolve("report.html")).isNotEmptyFile();
        assertThat(dir.resolve("plots/expert_load_layer_0.png")).isNotEmptyFile();
    }

    @Test
    void missingRunDirArgumentIsAUsageError() {
        MainTest.Run r = MainTest.run("report");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().lines().findFirst().orElseThrow()).contains("RUN_DIR");
    }
}
