package ai.behemoth.cli;

import picocli.CommandLine.Command;

/** PLACEHOLDER: replaced by the real command in this session. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true, description = "(not yet built)")
public final class BenchTokenizerCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("behemoth bench tokenizer is not built yet");
    }
}
