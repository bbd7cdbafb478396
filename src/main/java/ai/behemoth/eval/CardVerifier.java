package ai.behemoth.eval;

import ai.behemoth.generate.LanguageModel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Checks an eval card against a model: the signature (when signed, or when a public key is
 * given), the SHA-256 of every model file and of the evaluation data, and, with a rerun, that the
 * scores computed again lie within the card's 95% intervals. Every check that fails is a line in
 * {@link Report#problems()}; none failing means the card describes these bytes.
 */
public final class CardVerifier {
    private CardVerifier() {}

    public record Report(List<String> passed, List<String> problems) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    /**
     * @param dataOverride evaluation data to use instead of the name in the card, or null
     * @param publicKey    the key the card must be signed by, or null to accept the key in the card
     */
    public static Report verify(ObjectNode card, String where, Path model, String dataOverride, PublicKey publicKey,
                                boolean rerun, Evaluations.Progress progress) throws IOException {
        List<String> passed = new ArrayList<>(), problems = new ArrayList<>();
        if (card.has("signature") || publicKey != null) {
            try {
                String key = CardSignature.check(card, publicKey, where);
                passed.add("signature: valid, Ed25519 key " + key + (publicKey == null ? " (the key in the card; pass --pubkey to pin it)" : ""));
            } catch (IOException e) {
                problems.add(e.getMessage());
            }
        } else {
            passed.add("signature: none (an unsigned card shows only that these bytes give these scores, not who claims them)");
        }
        Map<String, String> actual = ModelSource.fileHashes(model);
        Iterator<Map.Entry<String, JsonNode>> expected = EvalCard.require(card, "model", where).path("files").fields();
        while (expected.hasNext()) {
            var e = expected.next();
            String got = actual.remove(e.getKey());
            Path file = ModelSource.isGguf(model) ? model : model.resolve(e.getKey());
            if (got == null) problems.add(file + ": missing (the card has sha256 " + e.getValue().asText() + ")");
            else if (!got.equals(e.getValue().asText()))
                problems.add(file + ": expected sha256 " + e.getValue().asText() + ", got " + got);
            else passed.add(file + ": sha256 " + got);
        }
        for (String extra : actual.keySet()) problems.add(model.resolve(extra) + ": not in the card (a file the evaluated model did not have)");

        String kind = card.path("kind").asText();
        String dataName = dataOverride != null ? dataOverride : card.path("data").path("name").asText();
        String wantData = card.path("data").path("sha256").asText();
        String gotData = Hashes.sha256(Evaluations.dataBytes(kind, dataName));
        if (!gotData.equals(wantData)) problems.add("data " + dataName + ": expected sha256 " + wantData + ", got " + gotData);
        else passed.add("data " + dataName + ": sha256 " + gotData);

        if (rerun) {
            if (!problems.isEmpty()) {
                problems.add("rerun skipped: the bytes differ from the card's");
            } else {
                try (LanguageModel lm = ModelSource.load(model)) {
                    ObjectNode settings = (ObjectNode) card.path("settings").deepCopy();
                    ItemScores scores = Evaluations.run(kind, lm, dataName, settings, false, progress).scores();
                    Iterator<Map.Entry<String, JsonNode>> it = card.path("scores").fields();
                    while (it.hasNext()) {
                        var e = it.next();
                        double stated = e.getValue().path("value").asDouble();
                        double low = e.getValue().path("ci95").path(0).asDouble(), high = e.getValue().path("ci95").path(1).asDouble();
                        double again = scores.value(scores.metric(e.getKey()));
                        String line = String.format("rerun %s: %.6f (card %.6f, 95%% interval [%.6f, %.6f])", e.getKey(), again, stated, low, high);
                        if (again >= low && again <= high) passed.add(line);
                        else problems.add(line + ": outside the interval");
                    }
                }
            }
        }
        return new Report(passed, problems);
    }
}
