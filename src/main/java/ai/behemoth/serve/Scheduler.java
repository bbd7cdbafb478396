package ai.behemoth.serve;

import ai.behemoth.model.Batch;
import ai.behemoth.model.InferenceModel;
import ai.behemoth.model.Sequence;
import ai.behemoth.tokenizer.Tokenizer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Continuous batching on one thread. Each step builds one {@link Batch}: a decode row for every
 * running choice, then as many prompt ids of choices still being prefilled as the batch has room
 * for (so a long prompt is run in chunks between decode steps and never stalls the others). One
 * forward runs them all (MoE layers group every row by expert), then each row that asked for logits
 * picks its token. Requests wait in a bounded queue until a place among
 * {@code maxConcurrency} running sequences is free; a full queue refuses with 429. The sequences of
 * finished requests are kept (up to {@code maxConcurrency}) and reset for the next ones, so their
 * key/value caches are allocated once rather than per request and left as garbage.
 */
final class Scheduler implements Runnable {
    private final InferenceModel model;
    private final Tokenizer tokenizer;
    private final Set<Integer> endTokens;
    private final int maxConcurrency, queueLimit, context;
    private final Metrics metrics;
    private final ArrayDeque<Job> waiting = new ArrayDeque<>();
    private final List<Job> running = new ArrayList<>();
    private final ArrayDeque<Sequence> freeSequences = new ArrayDeque<>();
    private final Thread thread;
    private boolean accepting = true, stopped, held;
    private volatile int queueDepth, runningSequences;

    Scheduler(InferenceModel model, Set<Integer> endTokens, int maxConcurrency, int queueLimit, int context, Metrics metrics) {
        if (maxConcurrency < 1 || maxConcurrency > model.maxRows())
            throw new IllegalArgumentException("--max-concurrency must be 1 to " + model.maxRows() + " (rows of one forward), not " + maxConcurrency);
        if (queueLimit < 0) throw new IllegalArgumentException("--queue must be 0 or more, not " + queueLimit);
        this.model = model;
        this.tokenizer = model.tokenizer();
        this.endTokens = Set.copyOf(endTokens);
        this.maxConcurrency = maxConcurrency;
        this.queueLimit = queueLimit;
        this.context = context;
        this.metrics = metrics;
        this.thread = Thread.ofPlatform().name("behemoth-scheduler").daemon().unstarted(this);
    }

    void start() {
        thread.start();
    }

    int queueDepth() { return queueDepth; }

    int runningSequences() { return runningSequences; }

    /** Queues a job; throws 429 when the queue is full and 503 once shutdown has begun. */
    synchronized void submit(Job job) {
        if (!accepting) throw new ApiException(503, "server_error", null, "shutting_down", "the server is shutting down");
        // With room to run it now, the job only passes through the queue.
        boolean runsNow = !held && waiting.isEmpty() && runningSequences + job.request.n() <= maxConcurrency;
        if (!runsNow && waiting.size() >= queueLimit)
            throw new ApiException(429, "rate_limit_error", null, "queue_full", "the server is busy: " + waiting.size()
                    + " requests are already waiting; try again later");
        waiting.add(job);
        queueDepth = waiting.size();
        notifyAll();
    }

    /** Stops (true) or resumes (false) admitting queued jobs; for tests that need a queue to fill. */
    synchronized void hold(boolean hold) {
        held = hold;
        notifyAll();
    }

    /** Wakes the scheduler so that it sees a cancellation at once even when idle. */
    synchronized void wake() {
        notifyAll();
    }

    /**
     * Refuses new jobs, lets running and queued ones finish for up to {@code graceMillis}, then ends the
     * rest with a 503 and stops the thread.
     */
    void shutdown(long graceMillis) throws InterruptedException {
        long end = System.currentTimeMillis() + graceMillis;
        synchronized (this) {
            accepting = false;
            held = false;
            notifyAll();
            while (!(waiting.isEmpty() && running.isEmpty()) && System.currentTimeMillis() < end)
                wait(Math.max(1, end - System.currentTimeMillis()));
            stopped = true;
            notifyAll();
        }
        thread.join();
    }

    @Override
    public void run() {
        Batch batch = model.newBatch();
        Choice[] rowChoice = new Choice[batch.capacity()];
        long windowNanos = 0, windowTokens = 0; // busy time and tokens since the rate was last published
        while (true) {
            synchronized (this) {
                while (!stopped && running.isEmpty() && (waiting.isEmpty() || held)) {
                    try {
                        wait(1000);
                    } catch (InterruptedException e) {
                        stopped = true;
                    }
                    dropCancelledWaiting();
                }
                if (stopped) {
                    ApiException down = new ApiException(503, "server_error", null, "shutting_down", "the server shut down before the request finished");
                    for (Job j : running) end(j, down);
                    for (Job j : waiting) end(j, down);
                    running.clear();
                    waiting.clear();
                    queueDepth = 0;
                    runningSequences = 0;
                    notifyAll();
                    return;
                }
                dropCancelledWaiting();
                admit();
            }
            retireCancelled();

            batch.clear();
            int rows = 0;
            for (Job job : running) {
                for (Choice c : job.choices) {
                    if (c.finishReason != null || c.prefilling()) continue;
                    batch.add(c.sequence, c.lastId(), true);
                    rowChoice[rows++] = c;
                }
            }
            for (Job job : running) {
                for (Choice c : job.choices) {
                    while (c.prefilling() && !batch.isFull()) {
                        int i = c.fed++;
                        boolean last = !c.prefilling();
                        batch.add(c.sequence, c.promptId(i), last);
                        rowChoice[rows++] = last ? c : null;
                    }
                }
            }
            if (rows == 0) continue;
            long stepStart = System.nanoTime();
            try {
                windowTokens += step(batch, rowChoice, rows);
            } catch (RuntimeException e) {
                // A bug, not bad input (requests were checked on arrival): fail what is running, keep serving.
                System.err.println("behemoth serve: a batch failed: " + e);
                failAll(new ApiException(500, "server_error", null, null, "the model failed on this batch"));
                continue;
            }
            windowNanos += System.nanoTime() - stepStart;
            if (windowNanos >= 500_000_000L) {
                metrics.tokensPerSecond(windowTokens * 1e9 / windowNanos);
                windowNanos = 0;
                windowTokens = 0;
            }
            retireFinished();
        }
    }

    /** Runs the batch and lets every row that asked for logits pick its token; returns the tokens picked. */
    private int step(Batch batch, Choice[] rowChoice, int rows) {
        model.forward(batch);
        long now = System.nanoTime();
        int picked = 0;
        for (int r = 0; r < rows; r++) {
            Choice c = rowChoice[r];
            if (c == null) continue;
            Job job = c.job;
            Event e = c.accept(batch, r);
            picked++;
            if (!job.firstTokenSeen) {
                job.firstTokenSeen = true;
                metrics.firstToken(now - job.createdNanos);
            }
            job.events.add(e);
        }
        return picked;
    }

    /** Moves queued jobs into the running set while there is room (a job larger than the room runs alone). */
    private void admit() {
        while (!held && !waiting.isEmpty()) {
            Job job = waiting.peek();
            int n = job.request.n();
            if (runningSequences > 0 && runningSequences + n > maxConcurrency) break;
            waiting.poll();
            List<Choice> choices = new ArrayList<>(n);
            Long seed = job.request.options().seed();
            long base = seed != null ? seed : System.nanoTime();
            for (int i = 0; i < n; i++)
                choices.add(new Choice(job, i, takeSequence(), job.request.prompt(), job.request.options(), base + i,
                        job.request.topLogprobs(), tokenizer, endTokens));
            job.choices = choices;
            running.add(job);
            runningSequences += n;
        }
        queueDepth = waiting.size();
    }

    private void dropCancelledWaiting() {
        long now = System.nanoTime();
        for (Iterator<Job> it = waiting.iterator(); it.hasNext(); ) {
            Job job = it.next();
            if (job.cancelled != null) {
                it.remove();
                metrics.cancelled(job.cancelled);
            } else if (now > job.deadlineNanos) {
                it.remove();
                queueDepth = waiting.size(); // before the handler hears of it: it may read the depth at once
                end(job, timeout(job));
            }
        }
        queueDepth = waiting.size();
    }

    /** Ends the running jobs whose client left or whose time is up. */
    private void retireCancelled() {
        long now = System.nanoTime();
        synchronized (this) {
            for (Iterator<Job> it = running.iterator(); it.hasNext(); ) {
                Job job = it.next();
                if (job.cancelled != null) {
                    metrics.cancelled(job.cancelled);
                    remove(it, job);
                } else if (now > job.deadlineNanos) {
                    end(job, timeout(job));
                    remove(it, job);
                }
            }
        }
    }

    private void retireFinished() {
        synchronized (this) {
            for (Iterator<Job> it = running.iterator(); it.hasNext(); ) {
                Job job = it.next();
                boolean done = true;
                for (Choice c : job.choices) done &= c.finishReason != null;
                if (done) remove(it, job);
            }
        }
    }

    private void remove(Iterator<Job> it, Job job) {
        it.remove();
        runningSequences -= job.choices.size();
        for (Choice c : job.choices) if (freeSequences.size() < maxConcurrency) freeSequences.push(c.sequence);
        notifyAll();
    }

    /** A kept sequence of a finished request, emptied, or a new one. */
    private Sequence takeSequence() {
        Sequence s = freeSequences.poll();
        if (s == null) return model.newSequence(context);
        s.reset();
        return s;
    }

    private void failAll(ApiException error) {
        synchronized (this) {
            for (Job j : running) end(j, error);
            runningSequences = 0;
            running.clear();
            notifyAll();
        }
    }

    private static ApiException timeout(Job job) {
        return new ApiException(408, "timeout_error", null, "timeout", "the request ran past the server's time limit of "
                + Math.round((job.deadlineNanos - job.createdNanos) / 1e9) + " s");
    }

    private static void end(Job job, ApiException error) {
        job.events.add(Event.failure(error));
    }
}
