package ai.behemoth.eval;

import ai.behemoth.cli.Main;
import ai.behemoth.format.Safetensors;
import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.TestCheckpoints;
import ai.behemoth.train.ParameterLayout;
import ai.behemoth.train.Transformer;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Small checkpoints and a CLI runner for the eval tests. */
final class EvalFixtures {
    private EvalFixtures() {}

    /** A small MoE model (byte vocabulary, context 48), randomly initialised. */
    static ModelConfig config() {
        return TestCheckpoints.small("mixtral");
    }

    static void randomModel(Path dir, long seed) throws IOException {
        TestCheckpoints.write(dir, config(), seed);
    }

    /** A model whose LM head is zero: every logit is 0, so every token has probability 1/V. */
    static void uniformModel(Path dir) throws IOException {
        Transformer model = TestCheckpoints.write(dir, config(), 5);
        ParameterLayout.Entry head = model.layout().get("output.weight");
        float[] params = model.params();
        Arrays.fill(params, head.offset(), head.offset() + head.size(), 0f);
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        for (ParameterLayout.Entry e : model.layout().entries())
            tensors.put(e.name(), new Safetensors.Tensor(e.shape(), Arrays.copyOfRange(params, e.offset(), e.offset() + e.size())));
        Safetensors.write(dir.resolve("model.safetensors"), tensors, Map.of());
    }

    /** Some plain ASCII text, a few hundred bytes. */
    static String text() {
        return """
                First Citizen:
                Before we proceed any further, hear me speak.

                All:
                Speak, speak.

                First Citizen:
                You are all resolved rather to die than to famish?

                All:
                Resolved. resolved.
                """;
    }

    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Result(code, out.toString(), err.toString());
    }
}
