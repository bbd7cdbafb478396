package ai.behemoth.model;

import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.train.ParameterLayout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link ModelWeights#bytes}: every weight counted once, as stored or as converted. */
class ModelWeightsTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"mixtral", "llama4", "dense"})
    void countsEveryParameterOnceAndTheConvertedSize(String preset) throws Exception {
        ModelConfig.Builder b = TestCheckpoints.small(preset).toBuilder();
        b.tiedEmbeddings = preset.equals("dense"); // the shared embedding/output table counts once
        ModelConfig config = b.build();
        TestCheckpoints.write(tmp.resolve(preset), config, 3);
        long parameters = new ParameterLayout(config).size();
        try (ModelWeights f32 = CheckpointWeights.load(tmp.resolve(preset), null)) {
            assertThat(f32.bytes()).isEqualTo(parameters * Float.BYTES);
        }
        try (ModelWeights q8 = CheckpointWeights.load(tmp.resolve(preset), GgmlType.Q8_0)) {
            // Q8_0 keeps 34 bytes per 32 matrix values; the norm vectors stay float.
            long matrixValues = 0, vectorValues = 0;
            for (ParameterLayout.Entry e : new ParameterLayout(config).entries()) {
                if (e.shape().length == 1) vectorValues += e.size();
                else matrixValues += e.size();
            }
            assertThat(q8.bytes()).isEqualTo(matrixValues / 32 * 34 + vectorValues * Float.BYTES);
        }
    }
}
