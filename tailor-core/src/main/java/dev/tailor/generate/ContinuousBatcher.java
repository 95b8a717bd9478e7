package dev.tailor.generate;

import dev.tailor.model.LlamaModel;
import dev.tailor.model.SequenceChunk;
import dev.tailor.tensor.MatMul;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Continuous batching: one thread keeps a running batch of generations over views of one base (each request with
 * its own adapters, sampling and KV cache) and advances all of them by one step per forward pass. Requests join and
 * leave between steps; a new prompt is run in chunks beside the decoding ones, a whole {@link Options#prefillChunk()}
 * per step when nothing decodes and a smaller share while streams decode ({@link #prefillBudget}), so running streams
 * keep flowing; a cancelled request leaves at the next step. Every
 * step runs with {@link MatMul#batchInvariant} products, so a request's tokens and log-probabilities are the same,
 * bit for bit, alone or in any batch, and the same as {@link Generator.Request#run()}.
 *
 * <p>Callbacks ({@link Generator.Request#onToken}) run on the batch thread: they must be quick and never block
 * (hand the text to the request's own thread). One that throws fails its request only.
 */
public final class ContinuousBatcher implements AutoCloseable {
    /**
     * Limits of the batch.
     *
     * @param maxBatch     sequences in the running batch at most; more wait in line
     * @param prefillChunk prompt tokens per step at most, over all sequences being prefilled, when no sequence
     *                     decodes; fewer while some do ({@link #prefillBudget})
     * @param maxWaiting   requests not yet in the batch at most; more are refused
     */
    public record Options(int maxBatch, int prefillChunk, int maxWaiting) {
        /** Checks the limits. */
        public Options {
            if (maxBatch < 1 || prefillChunk < 1 || maxWaiting < 0) {
                throw new IllegalArgumentException("a batch needs maxBatch >= 1, prefillChunk >= 1 and maxWaiting "
                        + ">= 0, got " + maxBatch + ", " + prefillChunk + " and " + maxWaiting);
            }
        }
    }

    /** Hears about each step, on the batch thread. */
    @FunctionalInterface
    public interface StepListener {
        /** A step ran {@code sequences} sequences ({@code rows} token rows in all) in {@code nanos}. */
        void step(int sequences, int rows, long nanos);
    }

    /**
     * Rows a step takes prompt tokens up to, decoding rows included: a step of this many rows costs about what a
     * decoding step of a few rows does, as long as reading the weights takes longer than the arithmetic.
     */
    static final int STEP_ROWS = 24;
    /** Prompt tokens a step always may run beside decoding sequences, however many decode, so prompts never stall. */
    static final int MIN_PREFILL = 8;
    /** Bytes of finished sequences' KV caches kept for the next ones at most ({@link KvCachePool}). */
    static final long MAX_POOLED_CACHE_BYTES = 256L << 20;

    private final LlamaModel base;
    private final Options options;
    private final StepListener listener;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final Deque<Submission> waiting = new ArrayDeque<>();
    private final List<Submission> running = new ArrayList<>();
    private final Thread thread;
    /** Finished sequences' KV caches, for the next ones (the batch thread's). */
    private final KvCachePool caches;
    /** Finished requests' logits arrays, for the next ones (the batch thread's). */
    private final Deque<float[]> freeLogits = new ArrayDeque<>();
    private volatile int runningCount;
    private boolean closed;
    private int paused;

    /** A batcher over views of {@code base}, with its own thread, started at once. */
    public ContinuousBatcher(LlamaModel base, Options options, StepListener listener) {
        this.base = base;
        this.options = options;
        this.listener = listener;
        this.caches = new KvCachePool(options.maxBatch(), MAX_POOLED_CACHE_BYTES);
        this.thread = Thread.ofPlatform().name("tailor-batch").daemon().start(this::loop);
    }

    /**
     * Queues a request (made by a {@link Generator} over a view of this batcher's base). Its prompt is checked
     * against the context now; its KV cache is made when it joins the batch. A request with nothing to run (no tokens
     * to generate, no prompt to score) is complete at once.
     *
     * @throws RejectedExecutionException when {@link Options#maxWaiting()} requests already wait, or after close
     * @throws dev.tailor.model.ContextOverflowException if the prompt does not fit the context
     * @throws IllegalArgumentException                  if a prompt id is outside the vocabulary
     */
    public Submission submit(Generator.Request request) {
        Submission s = new Submission(request.start(options.prefillChunk()));
        if (s.sequence.done()) {
            // nothing to run (no tokens asked for, no prompt to score): never a member of a step
            s.result.complete(s.sequence.result());
            return s;
        }
        s.sequence.useCaches(caches);
        lock.lock();
        try {
            if (closed) {
                throw new RejectedExecutionException("the batcher is closed");
            }
            if (waiting.size() >= options.maxWaiting()) {
                throw new RejectedExecutionException(waiting.size() + " requests already wait for a place");
            }
            waiting.add(s);
            work.signal();
        } finally {
            lock.unlock();
        }
        return s;
    }

    /**
     * Stops taking steps until the returned pause is closed: running requests hold still and new ones wait in line
     * (operators use it around maintenance; tests to fill the line).
     */
    public AutoCloseable pause() {
        lock.lock();
        try {
            paused++;
        } finally {
            lock.unlock();
        }
        return new AutoCloseable() {
            private boolean closed;

            @Override
            public void close() {
                lock.lock();
                try {
                    if (!closed) {
                        closed = true;
                        paused--;
                        work.signal();
                    }
                } finally {
                    lock.unlock();
                }
            }
        };
    }

    /** Requests waiting for a place in the batch. */
    public int waiting() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    /** Sequences in the running batch. */
    public int running() {
        return runningCount;
    }

    /** KV caches kept for the next sequences (read after the batch thread has been quiet, as tests do). */
    int pooledCaches() {
        return caches.size();
    }

    /** Stops the batch thread; requests still waiting or running end with a {@link CancellationException}. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            work.signal();
        } finally {
            lock.unlock();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        while (admit()) {
            for (Submission s : List.copyOf(running)) {
                if (s.cancelled) {
                    leave(s);
                    s.result.completeExceptionally(new CancellationException("the request was cancelled"));
                }
            }
            List<Member> batch = stepMembers();
            if (!batch.isEmpty()) {
                step(batch);
            }
            runningCount = running.size();
        }
        for (Submission s : running) {
            s.result.completeExceptionally(new CancellationException("the server is shutting down"));
        }
        running.clear();
        runningCount = 0;
    }

    /** Moves waiting requests into free places, first waiting for work; false once closed. */
    private boolean admit() {
        lock.lock();
        try {
            while ((paused > 0 || running.isEmpty() && waiting.isEmpty()) && !closed) {
                work.awaitUninterruptibly();
            }
            if (closed) {
                for (Submission s : waiting) {
                    s.result.completeExceptionally(new CancellationException("the server is shutting down"));
                }
                waiting.clear();
                return false;
            }
            while (running.size() < options.maxBatch() && !waiting.isEmpty()) {
                Submission s = waiting.poll();
                if (s.cancelled) {
                    s.result.completeExceptionally(new CancellationException("the request was cancelled"));
                } else {
                    running.add(s);
                }
            }
            runningCount = running.size();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Prompt tokens one step may run beside {@code decoding} decoding sequences: a whole {@code chunk} when none decode
     * (the first token as soon as possible); otherwise what fills the step up to {@link #STEP_ROWS} rows, at least
     * {@link #MIN_PREFILL} and at most a chunk. A prompt row costs a step what a decoding row does, so a step that
     * takes in a new prompt delays the streams in it by a few rows' worth, not by a whole prompt's (the tail of the
     * inter-token latency), as vLLM's chunked prefill fills a token budget per step.
     */
    static int prefillBudget(int decoding, int chunk) {
        return decoding == 0 ? chunk : Math.clamp(STEP_ROWS - decoding, Math.min(MIN_PREFILL, chunk), chunk);
    }

    /** A sequence in the next step, with the prompt tokens it may run there (0 when it decodes). */
    private record Member(Submission submission, int promptTokens) {
    }

    /**
     * Every decoding sequence, and prompt chunks in order of arrival within the step's {@link #prefillBudget} (the
     * last one cut to fit; how a prompt is cut does not change its results).
     */
    private List<Member> stepMembers() {
        int decoding = 0;
        for (Submission s : running) {
            if (s.sequence.promptLeft() == 0) {
                decoding++;
            }
        }
        int budget = prefillBudget(decoding, options.prefillChunk());
        List<Member> batch = new ArrayList<>(running.size());
        for (Submission s : running) {
            if (s.sequence.promptLeft() == 0) {
                batch.add(new Member(s, 0));
            } else if (budget > 0) {
                int tokens = s.sequence.nextTokens(budget);
                batch.add(new Member(s, tokens));
                budget -= tokens;
            }
        }
        return batch;
    }

    private void step(List<Member> members) {
        long t0 = System.nanoTime();
        List<SequenceChunk> chunks = new ArrayList<>(members.size());
        int rows = 0;
        float[][] logits = new float[members.size()][];
        int vocab = base.config().vocabSize();
        try {
            for (int i = 0; i < members.size(); i++) {
                Submission s = members.get(i).submission();
                SequenceChunk c = s.sequence.next(Math.max(1, members.get(i).promptTokens()));
                chunks.add(c);
                rows += c.tokens().length;
                logits[i] = c.allRows() ? new float[c.logitRows() * vocab]
                        : c.logits() ? s.logits(vocab, freeLogits) : null;
            }
            MatMul.batchInvariant(() -> {
                base.forwardBatch(chunks, logits);
                return null;
            });
        } catch (RuntimeException e) {
            for (Member m : members) {
                fail(m.submission(), e);
            }
            return;
        }
        for (int i = 0; i < members.size(); i++) {
            Submission s = members.get(i).submission();
            try {
                s.sequence.accept(logits[i]);
            } catch (RuntimeException e) {
                fail(s, e);
                continue;
            }
            if (s.sequence.done()) {
                leave(s);
                s.result.complete(s.sequence.result());
            }
        }
        listener.step(members.size(), rows, System.nanoTime() - t0);
    }

    private void fail(Submission s, RuntimeException e) {
        leave(s);
        s.result.completeExceptionally(e);
    }

    /**
     * Takes {@code s} out of the running batch (before its result completes, so {@link #running()} agrees), its KV
     * cache and logits array kept for the requests after it.
     */
    private void leave(Submission s) {
        running.remove(s);
        runningCount = running.size();
        s.sequence.releaseCache();
        if (s.logits != null && freeLogits.size() < options.maxBatch()) {
            freeLogits.push(s.logits);
        }
        s.logits = null;
    }

    /** A queued or running request. */
    public static final class Submission {
        private final Sequence sequence;
        private final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
        private volatile boolean cancelled;
        /** The logits of this request's last token, reused from step to step (only the batch's thread uses it). */
        private float[] logits;

        private Submission(Sequence sequence) {
            this.sequence = sequence;
        }

        /** Its logits array: one of {@code free} (arrays of finished requests) the first time, else a new one. */
        private float[] logits(int vocab, Deque<float[]> free) {
            if (logits == null) {
                float[] reused = free.poll();
                logits = reused != null && reused.length == vocab ? reused : new float[vocab];
            }
            return logits;
        }

        /**
         * Completes with the generation, or exceptionally with what failed it (a {@link CancellationException} once
         * cancelled).
         */
        public CompletableFuture<GenerationResult> result() {
            return result;
        }

        /** Leaves the batch at the next step (or the line), freeing its place; a finished request is unaffected. */
        public void cancel() {
            cancelled = true;
        }
    }
}
