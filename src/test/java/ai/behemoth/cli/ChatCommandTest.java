package ai.behemoth.cli;

import ai.behemoth.generate.ChatSession;
import ai.behemoth.generate.GenerateOptions;
import ai.behemoth.generate.LanguageModel;
import ai.behemoth.model.TestCheckpoints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The chat loop: turns, /reset and /quit (Ctrl-C was checked by hand in tmux: see the report). */
class ChatCommandTest {
    @TempDir
    Path tmp;

    @Test
    void turnsResetAndQuit() throws Exception {
        Path dir = tmp.resolve("m");
        TestCheckpoints.write(dir, TestCheckpoints.small("dense"), 2);
        Files.writeString(dir.resolve("config.json"), Files.readString(dir.resolve("config.json")).replace("\"context\" : 48", "\"context\" : 400"));
        StringWriter out = new StringWriter(), err = new StringWriter();
        try (LanguageModel model = LanguageModel.load(dir)) {
            ChatSession chat = model.chat(null);
            String input = "hi\n\nagain\n/reset\nhi\n/quit\nnever read\n";
            new ChatCommand().converse(chat, GenerateOptions.greedy().withMaxTokens(4), new BufferedReader(new StringReader(input)),
                    new PrintWriter(out), new PrintWriter(err));
            assertThat(chat.history()).extracting(m -> m.content()).hasSize(2).first().isEqualTo("hi");
        }
        assertThat(err.toString()).contains("(conversation forgotten)");
        assertThat(err.toString().lines().filter(l -> l.startsWith("prompt: ")).count()).isEqualTo(3);
        assertThat(err.toString()).contains("reused from the cache"); // the second turn
        // The first answer and the answer after /reset are the same greedy text.
        String[] answers = out.toString().split("> ");
        assertThat(answers).hasSize(7); // prompts before: hi, the blank line, again, /reset, hi, /quit
        assertThat(answers[1]).isEqualTo(answers[5]).isNotBlank();
    }
}
