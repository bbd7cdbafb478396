package ai.behemoth.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;

import static org.assertj.core.api.Assertions.assertThat;

class PreTokenizerTest {
    /** The reference twin: java.util.regex, with unmatched gaps kept as pieces (Hugging Face's "Isolated" split). */
    static List<String> referenceSplit(String text) {
        List<String> pieces = new ArrayList<>();
        Matcher m = PreTokenizer.REFERENCE.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) pieces.add(text.substring(last, m.start()));
            pieces.add(m.group());
            last = m.end();
        }
        if (last < text.length()) pieces.add(text.substring(last));
        return pieces;
    }

    @Test
    void splitsLikeTheLlama3Expression() {
        assertThat(PreTokenizer.split("Hello world, it's 12345 o'clock!!\n\n  ok  \tgo"))
                .containsExactly("Hello", " world", ",", " it", "'s", " ", "123", "45", " o", "'clock", "!!\n\n",
                        " ", " ok", "  ", "\tgo");
        assertThat(PreTokenizer.split("I'LL   see\r\n\r\n")).containsExactly("I", "'LL", "  ", " see", "\r\n\r\n");
        assertThat(PreTokenizer.split("中文 😀👍 x")).containsExactly("中文", " 😀👍", " x");
    }

    @Test
    void matchesJavaRegexOnRandomUnicode() {
        Random random = new Random(7);
        for (int trial = 0; trial < 3000; trial++) {
            String text = RandomText.generate(random, 1 + random.nextInt(40));
            assertThat(PreTokenizer.split(text)).as("pre-tokens of %s", escape(text)).isEqualTo(referenceSplit(text));
        }
    }

    @Test
    void matchesJavaRegexOnEveryCodePointAfterEachContext() {
        // Every BMP code point, and a sample of the other planes, after and before each kind of character.
        String[] contexts = {"a", " ", "'", " !", "\n1"};
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp += cp < 0x10000 ? 1 : 97) {
            if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) continue;
            String c = Character.toString(cp);
            for (String context : contexts) {
                String text = context + c + context;
                assertThat(PreTokenizer.split(text)).as("pre-tokens of %s", escape(text)).isEqualTo(referenceSplit(text));
            }
        }
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(cp -> sb.append(cp >= 0x20 && cp < 0x7f ? Character.toString(cp) : String.format("\\u{%x}", cp)));
        return sb.toString();
    }
}
