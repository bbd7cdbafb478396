package ai.behemoth.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Builds the multiple-choice task file that ships with Behemoth: from a text (the held-out
 * Shakespeare split), given the {@value #CONTEXT_LINES} lines before a line, pick that line among
 * it and {@value #DISTRACTORS} lines drawn from elsewhere in the same text. Only lines of at least
 * {@value #MIN_LENGTH} characters that are not a speaker's name ({@code ROMEO:}) are asked or used
 * as distractors, and a distractor comes from at least {@value #MIN_DISTANCE} lines away. All
 * draws come from one seeded generator, so the same text and seed give the same file.
 */
public final class NextLineTasks {
    private NextLineTasks() {}

    public static final int CONTEXT_LINES = 4, DISTRACTORS = 3, MIN_LENGTH = 16, MIN_DISTANCE = 40;
    public static final long SEED = 1234L;
    public static final int COUNT = 300;

    public static List<MultipleChoice.Task> build(String text, int count, long seed) {
        String[] lines = text.split("\n", -1);
        List<Integer> usable = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) if (usable(lines[i])) usable.add(i);
        List<Integer> targets = new ArrayList<>();
        for (int i : usable) if (i >= CONTEXT_LINES) targets.add(i);
        if (targets.size() < count || usable.size() < 2 * MIN_DISTANCE + DISTRACTORS + 1)
            throw new IllegalArgumentException("the text has " + targets.size() + " usable lines, too few for " + count + " tasks");
        SplittableRandom random = new SplittableRandom(seed);
        // A partial Fisher-Yates shuffle picks the questions; they are then put back in text order.
        for (int k = 0; k < count; k++) Collections.swap(targets, k, k + random.nextInt(targets.size() - k));
        List<Integer> chosen = new ArrayList<>(targets.subList(0, count));
        Collections.sort(chosen);
        List<MultipleChoice.Task> tasks = new ArrayList<>();
        for (int target : chosen) {
            StringBuilder context = new StringBuilder();
            for (int j = target - CONTEXT_LINES; j < target; j++) context.append(lines[j]).append('\n');
            List<String> choices = new ArrayList<>();
            choices.add(lines[target]);
            while (choices.size() < DISTRACTORS + 1) {
                int d = usable.get(random.nextInt(usable.size()));
                if (Math.abs(d - target) >= MIN_DISTANCE && !choices.contains(lines[d])) choices.add(lines[d]);
            }
            int label = random.nextInt(choices.size());
            Collections.swap(choices, 0, label);
            tasks.add(new MultipleChoice.Task(context.toString(), choices, label));
        }
        return tasks;
    }

    private static boolean usable(String line) {
        String s = line.strip();
        return s.length() >= MIN_LENGTH && !s.endsWith(":");
    }

    /** The tasks as JSON Lines, keys in the order context, choices, label. */
    public static String toJsonLines(List<MultipleChoice.Task> tasks) {
        ObjectMapper json = new ObjectMapper();
        StringBuilder out = new StringBuilder();
        for (MultipleChoice.Task t : tasks) {
            ObjectNode node = json.createObjectNode();
            node.put("context", t.context());
            t.choices().forEach(node.putArray("choices")::add);
            node.put("label", t.label());
            out.append(node).append('\n');
        }
        return out.toString();
    }
}
