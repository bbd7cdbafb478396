package ai.behemoth.generate;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns a stream of token bytes into text as soon as characters are complete. A token may end in
 * the middle of a UTF-8 sequence (the byte tokenizer always does for non-ASCII text): those bytes
 * wait for the next token. Malformed bytes become U+FFFD, as {@link String#String(byte[], java.nio.charset.Charset)} does.
 */
public final class Utf8Stream {
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    /** Adds {@code bytes} and returns the text of every character now complete (possibly empty). */
    public String push(byte[] bytes) {
        pending.writeBytes(bytes);
        byte[] all = pending.toByteArray();
        int complete = completePrefix(all);
        pending.reset();
        pending.write(all, complete, all.length - complete);
        return new String(all, 0, complete, StandardCharsets.UTF_8);
    }

    /** The text of whatever is left (an unfinished sequence becomes U+FFFD), emptying the stream. */
    public String flush() {
        String s = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return s;
    }

    /** Length of the longest prefix that does not end inside a multi-byte sequence that could still complete. */
    static int completePrefix(byte[] b) {
        int n = b.length;
        // Look back at most 3 bytes for the lead byte of the last sequence.
        for (int back = 1; back <= Math.min(3, n); back++) {
            int c = b[n - back] & 0xff;
            if (c < 0x80) return n;                      // ASCII: everything is complete
            if (c >= 0xc0) {                             // a lead byte
                int need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
                return back < need && c < 0xf8 ? n - back : n;
            }
        }
        return n;                                        // only continuation bytes: malformed, let the decoder replace them
    }
}
