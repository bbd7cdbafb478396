package ai.behemoth.cli;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.TestCheckpoints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static ai.behemoth.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code behemoth export}, then {@code generate} on the GGUF: the same greedy text as from the checkpoint. */
class ExportCommandTest {
    @TempDir
    Path tmp;

    @Test
    void exportedGgufGeneratesWhatTheCheckpointGenerates() throws Exception {
        Path ckpt = tmp.resolve("ckpt"), gguf = tmp.resolve("model.gguf");
        TestCheckpoints.write(ckpt, TestCheckpoints.small("mixtral"), 21);
        MainTest.Run export = run("export", "--format", "gguf", "--type", "q8_0", ckpt.toString(), gguf.toString());
        assertThat(export.code()).as(export.err()).isZero();
        assertThat(export.out()).contains("wrote " + gguf);
        String[] generate = {"generate", "--prompt", "Hi", "--temperature", "0", "--max-tokens", "12", "--quantize", "q8_0", "--model"};
        MainTest.Run fromCheckpoint = run(concat(generate, ckpt.toString())), fromGguf = run(concat(generate, gguf.toString()));
        assertThat(fromGguf.code()).as(fromGguf.err()).isZero();
        assertThat(fromGguf.out()).isNotEmpty().isEqualTo(fromCheckpoint.out());
    }

    @Test
    void aConfigLlamaCppCannotHoldIsAOneLineError() throws Exception {
        ModelConfig.Builder b = TestCheckpoints.small("llama4").toBuilder();
        b.renormTopK = true;
        Path ckpt = tmp.resolve("renorm-sigmoid");
        TestCheckpoints.write(ckpt, b.build(), 3);
        MainTest.Run r = run("export", "--format", "gguf", ckpt.toString(), tmp.resolve("x.gguf").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).startsWith("behemoth: error: " + ckpt).contains("renorm_top_k").doesNotContain("\n");
        assertThat(tmp.resolve("x.gguf")).doesNotExist();
        assertThat(run("export", "--format", "onnx", ckpt.toString(), "y").code()).isEqualTo(2);
    }

    private static String[] concat(String[] a, String last) {
        String[] out = java.util.Arrays.copyOf(a, a.length + 1);
        out[a.length] = last;
        return out;
    }
}
