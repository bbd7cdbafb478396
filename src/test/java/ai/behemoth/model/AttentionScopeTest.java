package ai.behemoth.model;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Llama 4's chunks and attention temperature: which layers, which keys, which factors; and the config fields that hold them. */
class AttentionScopeTest {

    private static ModelConfig llama4(int chunk, int floor, double scale) {
        ModelConfig.Builder b = TestCheckpoints.small("llama4").toBuilder();
        b.attentionChunk = chunk;
        b.temperatureFloor = floor;
        b.temperatureScale = scale;
        return b.build();
    }

    @Test
    void chunksOnRopeLayersTemperatureOnNopeLayers() {
        ModelConfig c = llama4(4, 2, 0.5); // 4 layers, NoPE every 4th: layer 3
        for (int l = 0; l < 3; l++) assertThat(AttentionScope.of(c, l)).isEqualTo(new AttentionScope(4, 0, 0));
        assertThat(AttentionScope.of(c, 3)).isEqualTo(new AttentionScope(0, 2, 0.5));
    }

    @Test
    void aQuerySeesItsOwnChunkUpToItself() {
        AttentionScope s = new AttentionScope(4, 0, 0);
        int[] expected = {0, 0, 0, 0, 4, 4, 4, 4, 8};
        for (int pos = 0; pos < expected.length; pos++) assertThat(s.firstKey(pos)).as("position %d", pos).isEqualTo(expected[pos]);
        assertThat(AttentionScope.FULL.firstKey(1000)).isZero();
    }

    @Test
    void temperatureFactorsByHand() {
        // floor 2, scale 0.5: 1 at position 0; 1 + 0.5·ln 2 at 1 and 2; 1 + 0.5·ln 3 at 3 and 4; 1 + 0.5·ln 4 at 5.
        AttentionScope s = new AttentionScope(0, 2, 0.5);
        double[] expected = {1, 1.3465736, 1.3465736, 1.5493061, 1.5493061, 1.6931472};
        for (int pos = 0; pos < expected.length; pos++)
            assertThat((double) s.queryScale(pos)).as("position %d", pos).isCloseTo(expected[pos], within(1e-6));
        assertThat(s.scalesQueries()).isTrue();
        // Scout: 1 up to position 8190, then 1 + 0.1·ln 2
        AttentionScope scout = new AttentionScope(0, 8192, 0.1);
        assertThat(scout.queryScale(8190)).isEqualTo(1f);
        assertThat((double) scout.queryScale(8191)).isCloseTo(1.0693147, within(1e-6));
        assertThat(AttentionScope.FULL.queryScale(1 << 30)).isEqualTo(1f);
        assertThat(AttentionScope.FULL.scalesQueries()).isFalse();
    }

    /** {@code sameBelow} against the definition: every position below the context masked and scaled alike. */
    @Test
    void sameBelowAgreesWithComparingEveryPosition() {
        int[] chunks = {0, 3, 4, 8, 9};
        int[] floors = {0, 2, 8, 9};
        double[] scales = {0, 0.1, 0.5};
        for (int context = 1; context <= 10; context++)
            for (int c1 : chunks) for (int f1 : floors) for (double s1 : scales) for (int c2 : chunks) for (int f2 : floors) for (double s2 : scales) {
                if ((f1 == 0 && s1 != 0) || (f2 == 0 && s2 != 0)) continue;
                AttentionScope a = new AttentionScope(c1, f1, s1), b = new AttentionScope(c2, f2, s2);
                boolean same = true;
                for (int pos = 0; pos < context; pos++)
                    same &= a.firstKey(pos) == b.firstKey(pos) && a.queryScale(pos) == b.queryScale(pos);
                assertThat(a.sameBelow(b, context)).as("%s vs %s below %d", a, b, context).isEqualTo(same);
            }
    }

    @Test
    void configsSavedBeforeTheFieldsLoadWithNeitherChunksNorTemperature() throws IOException {
        ModelConfig c = llama4(4, 2, 0.5);
        String json = c.toJson();
        assertThat(json).contains("\"attention_chunk\" : 4", "\"temperature_floor\" : 2", "\"temperature_scale\" : 0.5");
        assertThat(ModelConfig.fromJson(json)).isEqualTo(c);
        String old = json.replaceAll(",\\s*\"attention_chunk\" : 4,\\s*\"temperature_floor\" : 2,\\s*\"temperature_scale\" : 0.5", "");
        assertThat(old).doesNotContain("attention_chunk").endsWith("}");
        ModelConfig loaded = ModelConfig.fromJson(old);
        assertThat(loaded.attentionChunk()).isZero();
        assertThat(loaded.temperatureFloor()).isZero();
        assertThat(loaded.temperatureScale()).isZero();
        assertThat(loaded.toBuilder()).usingRecursiveComparison()
                .ignoringFields("attentionChunk", "temperatureFloor", "temperatureScale").isEqualTo(c.toBuilder());
    }

    @Test
    void badValuesAreNamed() {
        assertThatThrownBy(() -> llama4(-1, 0, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("attention_chunk must be 0 (no chunks) or more, got -1");
        assertThatThrownBy(() -> llama4(0, -2, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("temperature_floor must be 0 (no temperature tuning) or more, got -2");
        assertThatThrownBy(() -> llama4(0, 2, Double.NaN)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("temperature_scale must be a finite number, got NaN");
        assertThatThrownBy(() -> llama4(0, 0, 0.1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("temperature_scale (0.1) needs temperature_floor above 0");
    }
}
