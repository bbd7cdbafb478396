package ai.behemoth.tokenizer;

import java.util.Arrays;

/**
 * GPT-2's byte-to-unicode mapping: each of the 256 byte values gets one printable character, so a
 * token's bytes can be written as a JSON string in {@code tokenizer.json}. Printable Latin-1 bytes
 * map to themselves; the other 68 (controls, space, soft hyphen, ...) map to U+0100 onwards in
 * byte order. Space is byte 32 and becomes {@code Ġ} (U+0120).
 */
final class ByteLevel {
    private ByteLevel() {}

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x200];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 0x100;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    static char symbol(int b) {
        return BYTE_TO_CHAR[b & 0xff];
    }

    /** The byte-level string of {@code bytes}: one character per byte. */
    static String encode(byte[] bytes) {
        char[] chars = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) chars[i] = BYTE_TO_CHAR[bytes[i] & 0xff];
        return new String(chars);
    }

    /** The bytes of a byte-level string, or null when a character is not one of the 256 symbols. */
    static byte[] decode(String symbols) {
        byte[] bytes = new byte[symbols.length()];
        for (int i = 0; i < symbols.length(); i++) {
            char c = symbols.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) return null;
            bytes[i] = (byte) b;
        }
        return bytes;
    }
}
