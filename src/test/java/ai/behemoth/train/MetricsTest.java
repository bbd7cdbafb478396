package ai.behemoth.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetricsTest {
    @TempDir
    Path tmp;

    static Metrics.Step step(int n, Double val) {
        RouterStats layer = new RouterStats(1, new long[]{3, 1}, new double[]{0.75, 0.25}, 0.5, 0, 0.6, 1.1, 2.2);
        return new Metrics.Step(n, 2.5 / n, val, val == null ? null : val * 1.4427, 1e-3, 0.7, 12345.6, List.of(layer));
    }

    @Test
    void eachStepIsOneJsonLineWithTheFieldsTheIssueNames() throws IOException {
        Path file = tmp.resolve(Metrics.FILE);
        try (Metrics m = Metrics.create(file)) {
            m.append(step(1, null));
            m.append(step(2, 1.5));
            assertThat(Files.readAllLines(file)).hasSize(2); // flushed before close
        }
        List<String> lines = Files.readAllLines(file);
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.get(0)), second = json.readTree(lines.get(1));
        assertThat(first.has("val_loss")).isFalse();
        assertThat(second.get("val_loss").asDouble()).isEqualTo(1.5);
        assertThat(second.get("val_bpb").asDouble()).isEqualTo(1.5 * 1.4427);
        assertThat(second.get("train_loss").asDouble()).isEqualTo(1.25);
        for (String f : List.of("step", "train_loss", "lr", "grad_norm", "tokens_per_s", "experts")) assertThat(second.has(f)).as(f).isTrue();
        JsonNode e = second.get("experts").get(0);
        assertThat(e.get("layer").asInt()).isEqualTo(1);
        assertThat(e.get("load").get(0).asDouble()).isEqualTo(0.75);
        assertThat(e.get("max_vio").asDouble()).isEqualTo(0.5);
        assertThat(e.get("dead").asInt()).isZero();
        assertThat(e.get("entropy").asDouble()).isEqualTo(0.6);
        assertThat(e.get("aux").asDouble()).isEqualTo(1.1);
        assertThat(e.get("z").asDouble()).isEqualTo(2.2);
    }

    @Test
    void eventsAreLinesWithTheirKindFirst() throws IOException {
        Path file = tmp.resolve(Metrics.FILE);
        try (Metrics m = Metrics.create(file)) {
            m.event(Metrics.SUMMARY, new java.util.LinkedHashMap<>(java.util.Map.of("val_bpb", 2.0)));
        }
        assertThat(Files.readString(file)).isEqualTo("{\"event\":\"summary\",\"val_bpb\":2.0}\n");
    }

    @Test
    void aNewRunNeverOverwritesMetrics() throws IOException {
        Path file = tmp.resolve(Metrics.FILE);
        Files.writeString(file, "{\"step\":1}\n");
        assertThatThrownBy(() -> Metrics.create(file)).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(file)).isEqualTo("{\"step\":1}\n");
    }

    @Test
    void resumingDropsLinesAfterTheStepAndATornLastLine() throws IOException {
        Path file = tmp.resolve(Metrics.FILE);
        try (Metrics m = Metrics.create(file)) {
            for (int i = 1; i <= 6; i++) m.append(step(i, null));
        }
        Files.writeString(file, "{\"event\":\"config\",\"lr\":1}\n" + Files.readString(file)
                + "{\"event\":\"summary\",\"step\":6}\n{\"step\":7,\"train_lo");
        List<String> before = Files.readAllLines(file);
        try (Metrics m = Metrics.resume(file, file, 4)) {
            m.append(step(5, 2.0));
        }
        List<String> after = Files.readAllLines(file);
        assertThat(after).hasSize(6);
        assertThat(after.subList(0, 5)).isEqualTo(before.subList(0, 5)); // the config event and steps 1..4
        assertThat(after.get(5)).isEqualTo(Metrics.toJson(step(5, 2.0)));

        Path elsewhere = tmp.resolve("other.jsonl");
        try (Metrics m = Metrics.resume(file, elsewhere, 2)) {
            assertThat(Files.readAllLines(elsewhere)).isEqualTo(before.subList(0, 3));
        }
        assertThat(Files.readAllLines(file)).isEqualTo(after); // the source run is untouched
    }
}
