package ai.behemoth.generate;

import java.util.List;

/**
 * Finds stop strings in streamed text, across token boundaries. Text is held back while its end
 * could still be the start of a stop string; when a stop string appears, the text before it is
 * released and the stop string itself never is.
 */
public final class StopStrings {
    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    public StopStrings(List<String> stops) {
        this.stops = List.copyOf(stops);
    }

    /** Adds text; returns what can be shown now. After a stop string, returns "" for anything more. */
    public String push(String text) {
        if (stopped) return "";
        held.append(text);
        int first = -1;
        for (String s : stops) {
            int i = held.indexOf(s);
            if (i >= 0 && (first < 0 || i < first)) first = i;
        }
        if (first >= 0) {
            stopped = true;
            String out = held.substring(0, first);
            held.setLength(0);
            return out;
        }
        int keep = 0;
        for (String s : stops) keep = Math.max(keep, overlap(held, s));
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return out;
    }

    /** Whether a stop string has been seen. */
    public boolean stopped() {
        return stopped;
    }

    /** The held-back text, released at the end of a generation that did not stop on a string. */
    public String flush() {
        String out = held.toString();
        held.setLength(0);
        return out;
    }

    /** The longest suffix of {@code text} that is a proper prefix of {@code stop}. */
    private static int overlap(CharSequence text, String stop) {
        for (int len = Math.min(text.length(), stop.length() - 1); len > 0; len--) {
            boolean match = true;
            for (int i = 0; i < len && match; i++) match = text.charAt(text.length() - len + i) == stop.charAt(i);
            if (match) return len;
        }
        return 0;
    }
}
