package ai.behemoth.cli;

import picocli.CommandLine.Command;

/** PLACEHOLDER: replaced by the real command in this session. */
@Command(name = "gemm", mixinStandardHelpOptions = true, description = "(not yet built)")
public final class BenchGemmCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("behemoth bench gemm is not built yet");
    }
}
