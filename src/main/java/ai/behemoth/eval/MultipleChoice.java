package ai.behemoth.eval;

import ai.behemoth.model.InferenceModel;
import ai.behemoth.model.Sequence;
import ai.behemoth.tokenizer.Tokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Multiple choice by log-likelihood, as lm-evaluation-harness scores it. For each choice, the
 * log-likelihood of the choice string as a continuation of the context:
 * <ul>
 *   <li>trailing whitespace of the context moves to the front of the continuation; the context is
 *       encoded alone, context + continuation together, and the continuation's tokens are what the
 *       whole encoding has past the context's length (the harness's {@code _encode_pair});</li>
 *   <li>inputs longer than the model's context lose tokens on the left;</li>
 *   <li>{@code acc}: 1 when the highest log-likelihood is the label's; {@code acc_norm}: the same
 *       after dividing each log-likelihood by its choice's length in characters
 *       ({@code len(choice)} in the harness; the same as UTF-8 bytes for ASCII text such as
 *       Shakespeare). Ties go to the first choice (numpy's argmax).</li>
 * </ul>
 * A task file is JSON Lines: {@code {"context": "...", "choices": ["...", ...], "label": i}}.
 */
public final class MultipleChoice {
    private MultipleChoice() {}

    public static final String SHAKESPEARE_TASKS = "shakespeare";
    static final String SHAKESPEARE_RESOURCE = "shakespeare-next-line.jsonl";

    public record Task(String context, List<String> choices, int label) {}

    /** One question's outcome: each choice's log-likelihood and the two predictions. */
    public record Outcome(double[] logLikelihoods, int predicted, int predictedNorm) {}

    /** Task file bytes (hashed by the card) with the tasks parsed from them. */
    public record TaskFile(String name, byte[] bytes, List<Task> tasks) {}

    public static TaskFile load(String name) throws IOException {
        byte[] bytes;
        if (name.equals(SHAKESPEARE_TASKS)) {
            try (InputStream in = MultipleChoice.class.getResourceAsStream(SHAKESPEARE_RESOURCE)) {
                if (in == null) throw new IOException("the built-in task file " + SHAKESPEARE_RESOURCE + " is missing from the jar");
                bytes = in.readAllBytes();
            }
        } else {
            Path file = Path.of(name);
            if (!Files.isRegularFile(file)) throw new NoSuchFileException(name);
            bytes = Files.readAllBytes(file);
        }
        return new TaskFile(name, bytes, parse(name, EvalData.utf8(name, bytes)));
    }

    static List<Task> parse(String name, String text) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Task> tasks = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) continue;
            String where = name + ":" + (i + 1) + ": ";
            JsonNode node;
            try {
                node = json.readTree(line);
            } catch (JsonProcessingException e) {
                throw new IOException(where + "not valid JSON: " + e.getOriginalMessage());
            }
            if (!node.isObject()) throw new IOException(where + "expected a JSON object");
            JsonNode context = node.get("context"), choices = node.get("choices"), label = node.get("label");
            if (context == null || !context.isTextual()) throw new IOException(where + "\"context\" must be a string");
            if (choices == null || !choices.isArray() || choices.size() < 2)
                throw new IOException(where + "\"choices\" must be an array of at least 2 strings");
            List<String> options = new ArrayList<>();
            for (JsonNode c : choices) {
                if (!c.isTextual() || c.asText().isEmpty()) throw new IOException(where + "every choice must be a non-empty string");
                options.add(c.asText());
            }
            if (label == null || !label.canConvertToInt() || !label.isIntegralNumber() || label.asInt() < 0 || label.asInt() >= options.size())
                throw new IOException(where + "\"label\" must be an index 0.." + (options.size() - 1) + ", got " + label);
            if (context.asText().isEmpty()) throw new IOException(where + "\"context\" is empty");
            tasks.add(new Task(context.asText(), options, label.asInt()));
        }
        if (tasks.isEmpty()) throw new IOException(name + ": no tasks (empty file)");
        return tasks;
    }

    /** Scores every task; columns {@code acc}, {@code acc_norm} (0/1 per question). */
    public static ItemScores run(InferenceModel engine, List<Task> tasks, List<Outcome> outcomes, IntConsumer progress) {
        Scorer scorer = new Scorer(engine);
        double[] acc = new double[tasks.size()], accNorm = new double[tasks.size()];
        for (int i = 0; i < tasks.size(); i++) {
            Task t = tasks.get(i);
            Outcome o = scorer.score(t);
            acc[i] = o.predicted() == t.label() ? 1 : 0;
            accNorm[i] = o.predictedNorm() == t.label() ? 1 : 0;
            if (outcomes != null) outcomes.add(o);
            progress.accept(i + 1);
        }
        Map<String, double[]> columns = new LinkedHashMap<>();
        columns.put("acc", acc);
        columns.put("acc_norm", accNorm);
        return new ItemScores("question", columns, List.of(
                new ItemScores.Metric("acc", "acc", null, 1, "share of questions whose most likely choice is the label"),
                new ItemScores.Metric("acc_norm", "acc_norm", null, 1, "the same, log-likelihood divided by the choice's length in characters")));
    }

    /** argmax of {@code ll / length} (length 1 for all gives plain argmax); the first of equals wins. */
    static int argmax(double[] ll, double[] length) {
        int best = 0;
        for (int i = 1; i < ll.length; i++) if (ll[i] / length[i] > ll[best] / length[best]) best = i;
        return best;
    }

    /** Scores one question at a time, reusing the cached context across its choices. */
    static final class Scorer {
        private final TokenScorer scorer;
        private final Tokenizer tokenizer;
        private final Sequence seq;
        private int[] cached = new int[0];

        Scorer(InferenceModel engine) {
            this.scorer = new TokenScorer(engine);
            this.tokenizer = engine.tokenizer();
            this.seq = engine.newSequence();
        }

        Outcome score(Task task) {
            int n = task.choices().size();
            double[] ll = new double[n], ones = new double[n], chars = new double[n];
            for (int c = 0; c < n; c++) {
                ll[c] = logLikelihood(task.context(), task.choices().get(c));
                ones[c] = 1;
                String choice = task.choices().get(c);
                chars[c] = choice.codePointCount(0, choice.length());
            }
            return new Outcome(ll, argmax(ll, ones), argmax(ll, chars));
        }

        /** ln p(continuation | context), tokenized as the harness does. */
        double logLikelihood(String context, String continuation) {
            int spaces = context.length() - context.stripTrailing().length();
            if (spaces > 0) {
                continuation = context.substring(context.length() - spaces) + continuation;
                context = context.substring(0, context.length() - spaces);
            }
            int[] whole = tokenizer.encode(context + continuation);
            int[] contextTokens = tokenizer.encode(context);
            int contextLength = Math.max(1, Math.min(contextTokens.length, whole.length - 1));
            int[] input = whole;
            int from = contextLength;
            int window = scorer.context();
            if (input.length > window) { // drop tokens on the left, keep the continuation
                from = Math.max(1, from - (input.length - window));
                input = Arrays.copyOfRange(input, input.length - window, input.length);
            }
            // Reuse the cached prefix, but always run the token before the first scored one.
            int keep = 0, limit = Math.min(Math.min(cached.length, seq.length()), from - 1);
            while (keep < limit && cached[keep] == input[keep]) keep++;
            seq.truncate(keep);
            double[] lp = scorer.append(seq, Arrays.copyOfRange(input, keep, input.length), from - keep);
            cached = input;
            double sum = 0;
            for (int i = from - keep; i < lp.length; i++) sum += lp[i];
            return sum;
        }
    }
}
