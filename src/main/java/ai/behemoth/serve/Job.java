package ai.behemoth.serve;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One request between its HTTP handler and the scheduler. The scheduler creates the choices when it
 * admits the job and puts {@link Event}s on {@link #events}; the handler takes them and writes the
 * response. The handler cancels a job whose client went away.
 */
final class Job {
    final String id;
    final CompletionRequest request;
    final long createdNanos, deadlineNanos;
    final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    /** Set by the scheduler on admission; read by it only. */
    List<Choice> choices = List.of();
    boolean firstTokenSeen;
    /** Why the job was cancelled (a client disconnect), or null. */
    volatile String cancelled;

    Job(String id, CompletionRequest request, long timeoutNanos) {
        this.id = id;
        this.request = request;
        this.createdNanos = System.nanoTime();
        this.deadlineNanos = createdNanos + timeoutNanos;
    }

    void cancel(String reason) {
        cancelled = reason;
    }
}
