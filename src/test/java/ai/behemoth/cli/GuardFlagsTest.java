package ai.behemoth.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static ai.behemoth.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/** Bad guard and cost flags of behemoth train are one-line errors naming the flag, before any work. */
class GuardFlagsTest {
    @TempDir
    Path tmp;

    @Test
    void badGuardAndCostFlagsAreRefused() {
        String out = tmp.resolve("run").toString();
        assertThat(run("train", "--out", out, "--guard", "maybe").code()).isEqualTo(2);
        MainTest.Run r = run("train", "--out", out, "--guard-window", "1");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.firstLine()).contains("--guard-window");
        assertThat(run("train", "--out", out, "--guard-bad-window", "2", "--guard-max-bad", "3").firstLine())
                .contains("--guard-bad-window").contains("--guard-max-bad");
        assertThat(run("train", "--out", out, "--guard-lr-drop", "1.5").firstLine()).contains("--guard-lr-drop");
        assertThat(run("train", "--out", out, "--watts", "-5").firstLine()).contains("--watts");
        assertThat(tmp.resolve("run")).doesNotExist();
    }
}
