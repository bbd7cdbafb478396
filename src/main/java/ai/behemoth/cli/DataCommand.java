package ai.behemoth.cli;

import picocli.CommandLine.Command;

/** PLACEHOLDER: replaced by the real command in this session. */
@Command(name = "data", mixinStandardHelpOptions = true, description = "(not yet built)")
public final class DataCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("behemoth data is not built yet");
    }
}
