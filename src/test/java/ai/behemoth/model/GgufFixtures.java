package ai.behemoth.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The GGUF fixtures written by llama.cpp's gguf-py ({@code tools/make_random_*_gguf.py}) under
 * {@code src/test/resources/gguf/}: each {@code NAME.gguf} beside {@code NAME.json}, which holds the
 * tokens and the logits of the script's float64 Hugging Face forward.
 */
final class GgufFixtures {
    private GgufFixtures() {}

    /** The fixture file {@code gguf/NAME}. */
    static Path file(String name) throws URISyntaxException {
        return Path.of(GgufFixtures.class.getResource("/gguf/" + name).toURI());
    }

    /** The JSON written beside {@code gguf}. */
    static JsonNode expected(Path gguf) throws IOException {
        return new ObjectMapper().readTree(gguf.resolveSibling(gguf.getFileName().toString().replace(".gguf", ".json")).toFile());
    }

    /** The {@code tokens} of a fixture's JSON. */
    static int[] tokens(JsonNode expected) {
        int[] tokens = new int[expected.get("tokens").size()];
        for (int i = 0; i < tokens.length; i++) tokens[i] = expected.get("tokens").get(i).asInt();
        return tokens;
    }

    /** max |a − b| / max |b| over every logit, {@code expected} a JSON array of rows. */
    static double relativeError(float[][] actual, JsonNode expected) {
        assertThat(actual.length).as("rows").isEqualTo(expected.size());
        double maxDiff = 0, maxRef = 0;
        for (int t = 0; t < actual.length; t++) {
            JsonNode row = expected.get(t);
            assertThat(actual[t]).hasSize(row.size());
            for (int v = 0; v < row.size(); v++) {
                maxDiff = Math.max(maxDiff, Math.abs(actual[t][v] - row.get(v).asDouble()));
                maxRef = Math.max(maxRef, Math.abs(row.get(v).asDouble()));
            }
        }
        return maxDiff / maxRef;
    }
}
