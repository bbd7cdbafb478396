package ai.behemoth.cli;

import picocli.CommandLine.Command;

/** PLACEHOLDER: replaced by the real command in this session. */
@Command(name = "peak", mixinStandardHelpOptions = true, description = "(not yet built)")
public final class BenchPeakCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("behemoth bench peak is not built yet");
    }
}
