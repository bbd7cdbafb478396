package ai.behemoth.cli;

import picocli.CommandLine.Command;

/** PLACEHOLDER: replaced by the real command in this session. */
@Command(name = "train", mixinStandardHelpOptions = true, description = "(not yet built)")
public final class TrainCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("behemoth train is not built yet");
    }
}
