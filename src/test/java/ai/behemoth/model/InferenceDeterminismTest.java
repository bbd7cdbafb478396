package ai.behemoth.model;

import ai.behemoth.tensor.quant.GgmlType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The same model on the same tokens gives the same bits while the JIT compiles it: the first
 * forwards run the kernels interpreted (or C1-compiled), later ones C2-compiled, and every logit
 * must match the first run's to the bit. Run alone in a fresh JVM this starts cold; after other
 * tests have warmed the kernels it still checks that repeated runs agree.
 */
class InferenceDeterminismTest {
    private static final int RUNS = 80;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"F32", "Q8_0"})
    void logitsKeepTheirBitsWhileTheJitWarmsUp(String type) throws Exception {
        ModelConfig config = TestCheckpoints.small("mixtral");
        TestCheckpoints.write(tmp.resolve("m"), config, 13);
        // 11 tokens in chunks of 8: one chunk dequantises weight rows (8 rows), one dots them in place (3 rows).
        int[] tokens = InferenceModelTest.ids(17, 11);
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(tmp.resolve("m"), GgmlType.valueOf(type)), 8)) {
            float[][] first = InferenceModelTest.allLogits(model, tokens, 8);
            for (int run = 1; run < RUNS; run++) {
                float[][] again = InferenceModelTest.allLogits(model, tokens, 8);
                for (int t = 0; t < tokens.length; t++) {
                    int i = Arrays.mismatch(again[t], first[t]);
                    assertThat(i).as("run %d, position %d: logit %d is %s, was %s in run 0", run, t, i,
                            i < 0 ? "" : again[t][i], i < 0 ? "" : first[t][i]).isEqualTo(-1);
                }
            }
        }
    }
}
