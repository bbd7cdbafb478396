package ai.behemoth.train;

import java.io.IOException;
import java.nio.file.Path;

/** Lets tests in other packages delete a checkpoint folder the way the trainer does. */
public final class CheckpointTestAccess {
    private CheckpointTestAccess() {}

    public static void deleteTree(Path dir) throws IOException {
        Checkpoint.deleteTree(dir);
    }
}
