package ai.behemoth.serve;

import ai.behemoth.model.InferenceModel;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The engine's router counts behind /metrics' expert load: top-k assignments per token on every MoE layer. */
class ExpertLoadTest {
    @Test
    void everyTokenRunCountsTopKAssignmentsOnEachMoeLayer() {
        InferenceModel engine = TestServers.model().engine();
        long[][] before = engine.expertTokenCounts();
        engine.prefill(engine.newSequence(64), new int[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
        long[][] after = engine.expertTokenCounts();
        int topK = engine.config().topK();
        assertThat(after).hasNumberOfRows(engine.config().layers());
        for (int l = 0; l < after.length; l++) {
            long added = 0;
            for (int e = 0; e < after[l].length; e++) {
                assertThat(after[l][e]).isGreaterThanOrEqualTo(before[l][e]);
                added += after[l][e] - before[l][e];
            }
            assertThat(added).as("layer %d", l).isEqualTo(engine.weights().layers().get(l).isMoe() ? 11L * topK : 0);
        }
    }
}
