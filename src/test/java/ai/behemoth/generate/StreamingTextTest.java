package ai.behemoth.generate;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** UTF-8 assembled across token boundaries, and stop strings matched across them. */
class StreamingTextTest {
    @Test
    void utf8CharactersAreHeldUntilComplete() {
        byte[] bytes = "aé€😀b".getBytes(StandardCharsets.UTF_8);
        Utf8Stream s = new Utf8Stream();
        StringBuilder out = new StringBuilder();
        int emptyPieces = 0;
        for (byte b : bytes) {
            String piece = s.push(new byte[]{b});
            if (piece.isEmpty()) emptyPieces++;
            assertThat(piece).doesNotContain("\uFFFD");
            out.append(piece);
        }
        out.append(s.flush());
        assertThat(out.toString()).isEqualTo("aé€😀b");
        assertThat(emptyPieces).isEqualTo(1 + 2 + 3); // the bytes before each multi-byte character completes
    }

    @Test
    void malformedAndUnfinishedBytesBecomeReplacementCharacters() {
        Utf8Stream s = new Utf8Stream();
        assertThat(s.push(new byte[]{(byte) 0x80, 'x'})).isEqualTo("\uFFFDx");
        assertThat(s.push(new byte[]{(byte) 0xe2, (byte) 0x82})).isEmpty();
        assertThat(s.flush()).isEqualTo("\uFFFD");
    }

    @Test
    void stopStringSplitAcrossPiecesIsNotEmitted() {
        StopStrings stops = new StopStrings(List.of("END", "<|eot_id|>"));
        StringBuilder out = new StringBuilder();
        for (String piece : List.of("Hello E", "N", "o E", "ND more")) out.append(stops.push(piece));
        assertThat(out.toString()).isEqualTo("Hello ENo ");
        assertThat(stops.stopped()).isTrue();
        assertThat(stops.push("later")).isEmpty();
    }

    @Test
    void heldTextIsReleasedWhenNoStopFollows() {
        StopStrings stops = new StopStrings(List.of("<|eot_id|>"));
        assertThat(stops.push("a <|eo")).isEqualTo("a ");
        assertThat(stops.push("x")).isEqualTo("<|eox");
        assertThat(stops.push(" <")).isEqualTo(" ");
        assertThat(stops.flush()).isEqualTo("<");
        assertThat(stops.stopped()).isFalse();
    }

    @Test
    void earliestStopStringWins() {
        StopStrings stops = new StopStrings(List.of("bc", "ab"));
        assertThat(stops.push("xabc")).isEqualTo("x");
    }
}
