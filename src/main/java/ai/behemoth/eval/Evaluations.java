package ai.behemoth.eval;

import ai.behemoth.generate.GenerateOptions;
import ai.behemoth.generate.LanguageModel;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs an evaluation of any kind from its data name and settings: the one path that both the
 * {@code eval} commands and {@code eval verify --rerun} take, so a rerun computes exactly what the
 * card was made from.
 */
public final class Evaluations {
    private Evaluations() {}

    public static final String PERPLEXITY = "perplexity", CHOICE = "choice", STABILITY = "stability";

    /** Reports progress of long work: {@code begin} once with the total, then {@code update} with the amount done. */
    public interface Progress {
        Progress NONE = new Progress() {
            @Override public void begin(String task, long total) {}
            @Override public void update(long done) {}
            @Override public void end() {}
        };

        void begin(String task, long total);

        void update(long done);

        void end();
    }

    /** The per-item scores and, when asked, the per-item log. */
    public record Result(ItemScores scores, ArrayNode samples, StabilityProbe.Result stability) {}

    /** The exact bytes of the evaluation data named {@code name} for this kind (what the card hashes). */
    public static byte[] dataBytes(String kind, String name) throws IOException {
        return switch (kind) {
            case PERPLEXITY -> EvalData.load(name).bytes();
            case CHOICE -> MultipleChoice.load(name).bytes();
            case STABILITY -> {
                StabilityProbe.readPrompts(Path.of(name));
                yield Files.readAllBytes(Path.of(name));
            }
            default -> throw new IllegalArgumentException("unknown evaluation kind " + kind);
        };
    }

    /**
     * Runs the evaluation. Settings left out get their defaults, written into {@code settings} (so
     * that the card records them): for perplexity, {@code window} is the model's context and
     * {@code stride} half the window.
     */
    public static Result run(String kind, LanguageModel model, String dataName, ObjectNode settings, boolean logSamples,
                             Progress progress) throws IOException {
        ArrayNode log = logSamples ? EvalCard.JSON.createArrayNode() : null;
        try {
            switch (kind) {
                case PERPLEXITY -> {
                    EvalData data = EvalData.load(dataName);
                    if (!settings.has("window")) settings.put("window", model.config().context());
                    int window = settings.path("window").asInt();
                    if (!settings.has("stride")) settings.put("stride", Math.max(1, window / 2));
                    int[] tokens = model.tokenizer().encode(data.text());
                    progress.begin("perplexity", tokens.length);
                    ItemScores scores = Perplexity.run(model.engine(), tokens, window, settings.path("stride").asInt(), progress::update);
                    if (log != null) {
                        double[] nats = scores.column("nats"), count = scores.column("tokens");
                        for (int i = 0; i < nats.length; i++)
                            log.addObject().put("chunk", i).put("tokens", (long) count[i]).put("nats_per_token", nats[i] / count[i]);
                    }
                    return new Result(scores, log, null);
                }
                case CHOICE -> {
                    MultipleChoice.TaskFile file = MultipleChoice.load(dataName);
                    progress.begin("choice", file.tasks().size());
                    List<MultipleChoice.Outcome> outcomes = new ArrayList<>();
                    ItemScores scores = MultipleChoice.run(model.engine(), file.tasks(), outcomes, progress::update);
                    if (log != null) {
                        for (int i = 0; i < outcomes.size(); i++) {
                            ObjectNode o = log.addObject();
                            o.put("question", i);
                            o.put("label", file.tasks().get(i).label());
                            o.put("predicted", outcomes.get(i).predicted());
                            o.put("predicted_norm", outcomes.get(i).predictedNorm());
                            ArrayNode ll = o.putArray("log_likelihoods");
                            for (double v : outcomes.get(i).logLikelihoods()) ll.add(v);
                        }
                    }
                    return new Result(scores, log, null);
                }
                case STABILITY -> {
                    List<String> prompts = StabilityProbe.readPrompts(Path.of(dataName));
                    int seeds = settings.path("seeds").asInt();
                    GenerateOptions options = GenerateOptions.defaults()
                            .withTemperature(settings.path("temperature").asDouble())
                            .withMaxTokens(settings.path("max_tokens").asInt())
                            .withTopK(settings.path("top_k").asInt())
                            .withTopP(settings.path("top_p").asDouble())
                            .withMinP(settings.path("min_p").asDouble());
                    progress.begin("stability", (long) prompts.size() * seeds);
                    StabilityProbe.Result r = StabilityProbe.run(model, prompts, seeds, settings.path("first_seed").asLong(),
                            options, progress::update);
                    if (log != null) {
                        for (StabilityProbe.Sample s : r.samples()) {
                            ObjectNode o = log.addObject();
                            o.put("prompt", s.prompt());
                            o.put("seed", s.seed());
                            o.put("tokens", s.tokens());
                            o.put("perplexity", s.perplexity());
                            o.put("distinct_1", s.distinct1());
                            o.put("distinct_2", s.distinct2());
                            o.put("repeat_4", s.repeat4());
                            o.put("text", s.text());
                        }
                    }
                    return new Result(r.scores(), log, r);
                }
                default -> throw new IllegalArgumentException("unknown evaluation kind " + kind);
            }
        } finally {
            progress.end();
        }
    }
}
