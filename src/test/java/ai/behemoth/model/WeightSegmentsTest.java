package ai.behemoth.model;

import ai.behemoth.tensor.quant.GgmlType;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every matrix of a loaded GGUF is one kind of memory segment: all mapped when used as stored (the
 * Q/K rows a {@code llama}/{@code llama4} file re-orders included, see {@link MappedCopy}), all native
 * when {@code --quantize} converts on load (those already of the type included). Mixed kinds made C2
 * compile the decode kernels' vector loads into slow, allocating paths.
 */
class WeightSegmentsTest {

    @Test
    void asStoredEveryMatrixIsMappedConvertedEveryMatrixIsNative() throws Exception {
        for (String name : new String[]{"random-llama4-f32.gguf", "random-qwen3-f32.gguf", "random-llama3-rope-f32.gguf"}) {
            Path gguf = GgufFixtures.file(name);
            try (ModelWeights stored = GgufWeights.load(gguf, null); ModelWeights converted = GgufWeights.load(gguf, GgmlType.F32)) {
                assertThat(matrices(stored)).as(name + " as stored").isNotEmpty().allMatch(m -> m.data().isMapped());
                assertThat(matrices(converted)).as(name + " with --quantize f32").isNotEmpty().noneMatch(m -> m.data().isMapped());
            }
        }
    }

    private static List<Matrix> matrices(ModelWeights w) {
        List<Matrix> all = new ArrayList<>(List.of(w.embedding(), w.output()));
        for (LayerWeights l : w.layers())
            for (Matrix m : new Matrix[]{l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.up(), l.down(), l.router(),
                    l.expertGate(), l.expertUp(), l.expertDown(), l.sharedGate(), l.sharedUp(), l.sharedDown()})
                if (m != null) all.add(m);
        return all;
    }
}
