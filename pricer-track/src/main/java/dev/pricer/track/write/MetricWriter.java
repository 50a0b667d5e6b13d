package dev.pricer.track.write;

import dev.pricer.track.model.Names;
import dev.pricer.track.model.Point;
import dev.pricer.track.store.TrackStore;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Keeps the store off the training loop: {@link #log} puts a step on a bounded queue, and one background
 * thread commits whatever has arrived in a single transaction, as soon as it arrives. The writer numbers
 * each run's points ({@code seq}) and starts a new segment when a key's step goes backwards.
 * A failed commit is retried with the same batch: a full disk stalls logging, it never drops points.
 */
public final class MetricWriter implements AutoCloseable {

    /** Log calls that may wait; when full, {@link #log} blocks rather than lose points. */
    public static final int QUEUE_CAPACITY = 100_000;
    private static final int BATCH = 20_000;
    private static final Duration HEARTBEAT_EVERY = Duration.ofSeconds(10);

    private sealed interface Task {
        record Log(RunCursor run, long step, long wallMs, Map<String, Double> values) implements Task {
        }

        record Barrier(CompletableFuture<Void> done) implements Task {
        }
    }

    private final TrackStore store;
    private final Consumer<String> onCommitted;
    private final BlockingQueue<Task> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final Map<String, RunCursor> open = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean closing;
    private volatile Throwable lastError;
    private long lastHeartbeat;

    /** {@code onCommitted} hears the id of each run that got new points or a heartbeat (the streamer listens). */
    public MetricWriter(TrackStore store, Consumer<String> onCommitted) {
        this.store = store;
        this.onCommitted = onCommitted;
        this.thread = Thread.ofPlatform().name("pricer-track-writer").daemon(true).start(this::loop);
    }

    /** Starts writing for a run whose stored points end at {@code resume}. */
    public RunCursor open(String runId, TrackStore.ResumePoint resume) {
        RunCursor cursor = new RunCursor(runId, resume);
        open.put(runId, cursor);
        return cursor;
    }

    public void forget(String runId) {
        open.remove(runId);
    }

    public void log(RunCursor run, long step, Map<String, Double> values) {
        if (closing) throw new IllegalStateException("the tracker is closed");
        Map<String, Double> copy;
        try {
            copy = Map.copyOf(values);
        } catch (NullPointerException e) {
            throw new IllegalArgumentException(nullEntry(values));
        }
        for (String key : copy.keySet()) {
            Names.require("a metric key", key, Names.NAME);
        }
        put(new Task.Log(run, step, System.currentTimeMillis(), copy));
    }

    private static String nullEntry(Map<String, Double> values) {
        for (var e : values.entrySet()) {
            if (e.getKey() == null) return "a metric key cannot be null";
            if (e.getValue() == null) return "metric '" + e.getKey() + "' has no value (null)";
        }
        return "the metrics map is null";
    }

    /** Completes when everything logged before this call is committed. */
    public CompletableFuture<Void> flush() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        put(new Task.Barrier(done));
        return done;
    }

    public Throwable lastError() {
        return lastError;
    }

    private void put(Task task) {
        try {
            queue.put(task);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the metric queue was full", e);
        }
    }

    private void loop() {
        List<Task> batch = new ArrayList<>(BATCH);
        while (true) {
            try {
                Task first = queue.poll(1, TimeUnit.SECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, BATCH - 1);
                    commit(batch);
                    batch.clear();
                }
                heartbeatIfDue();
                if (closing && queue.isEmpty()) return;
            } catch (InterruptedException e) {
                if (closing && queue.isEmpty()) return;
            }
        }
    }

    private void commit(List<Task> batch) throws InterruptedException {
        Map<String, List<Point>> points = new LinkedHashMap<>();
        List<CompletableFuture<Void>> barriers = new ArrayList<>();
        for (Task task : batch) {
            switch (task) {
                case Task.Log log -> log.run().number(log.step(), log.wallMs(), log.values(),
                        points.computeIfAbsent(log.run().runId, id -> new ArrayList<>()));
                case Task.Barrier barrier -> barriers.add(barrier.done());
            }
        }
        long backoff = 100;
        while (true) {
            try {
                store.append(points);
                lastError = null;
                break;
            } catch (RuntimeException e) {
                if (lastError == null) System.err.println("pricer-track: cannot write metrics, retrying: " + e.getMessage());
                lastError = e;
                Thread.sleep(backoff);
                backoff = Math.min(backoff * 2, 5_000);
            }
        }
        points.keySet().forEach(onCommitted);
        barriers.forEach(b -> b.complete(null));
    }

    private void heartbeatIfDue() {
        long now = System.currentTimeMillis();
        if (now - lastHeartbeat < HEARTBEAT_EVERY.toMillis()) return;
        lastHeartbeat = now;
        try {
            store.heartbeat(open.keySet(), now);
            open.keySet().forEach(onCommitted);
        } catch (RuntimeException e) {
            lastError = e;
        }
    }

    /** Writes what is queued and stops the thread. */
    @Override
    public void close() {
        closing = true;
        thread.interrupt();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A run's numbering state; only the writer thread touches it after {@link #open}. */
    public static final class RunCursor {
        private final String runId;
        private long seq;
        private int segment;
        private final Map<String, Long> lastStep;

        private RunCursor(String runId, TrackStore.ResumePoint resume) {
            this.runId = runId;
            this.seq = resume.lastSeq();
            this.segment = resume.segment();
            this.lastStep = new HashMap<>(resume.maxStepByKey());
        }

        public String runId() {
            return runId;
        }

        void number(long step, long wallMs, Map<String, Double> values, List<Point> out) {
            for (String key : values.keySet()) {
                Long previous = lastStep.get(key);
                if (previous != null && step < previous) {
                    segment++;
                    lastStep.clear();
                    break;
                }
            }
            for (var e : values.entrySet()) {
                out.add(new Point(++seq, e.getKey(), segment, step, wallMs, e.getValue()));
                lastStep.put(e.getKey(), step);
            }
        }
    }
}
