package ai.behemoth.cli;

import picocli.CommandLine.Command;

/** PLACEHOLDER: replaced by the real command in this session. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true, description = "(not yet built)")
public final class TokenizerCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("behemoth tokenizer is not built yet");
    }
}
