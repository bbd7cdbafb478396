package ai.behemoth.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Logits copied into a caller's reused buffer are the same as a fresh copy, row by row. */
class BatchTest {
    @TempDir
    Path tmp;

    @Test
    void logitsIntoAReusedBufferMatchAFreshCopy() throws Exception {
        TestCheckpoints.write(tmp.resolve("m"), TestCheckpoints.small("mixtral"), 5);
        try (InferenceModel model = new InferenceModel(CheckpointWeights.load(tmp.resolve("m"), null), 8)) {
            Sequence a = model.newSequence(), b = model.newSequence();
            Batch batch = model.newBatch();
            batch.add(a, 3, true);
            batch.add(b, 7, false);
            batch.add(b, 9, true);
            model.forward(batch);
            float[] buffer = new float[model.config().vocabSize()];
            for (int row : new int[] {0, 2}) {
                float[] fresh = batch.logits(row);
                float[] reused = batch.logits(row, buffer);
                assertThat(reused).isSameAs(buffer).containsExactly(fresh);
            }
            assertThat(batch.logits(0)).isNotEqualTo(batch.logits(2));
            float[] wrongLength = new float[3];
            assertThat(batch.logits(0, wrongLength)).isNotSameAs(wrongLength).containsExactly(batch.logits(0));
        }
    }
}
