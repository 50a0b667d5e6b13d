package dev.pricer.track;

import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunStatus;
import dev.pricer.track.write.MetricWriter;

import java.util.Map;

/** A run being recorded. {@link #log} is safe to call from the training loop: it only queues. */
public final class Run implements AutoCloseable {

    private final Tracker tracker;
    private final RunInfo info;
    private final MetricWriter.RunCursor cursor;
    private volatile long lastStep;
    private volatile boolean ended;

    Run(Tracker tracker, RunInfo info, MetricWriter.RunCursor cursor) {
        this.tracker = tracker;
        this.info = info;
        this.cursor = cursor;
    }

    public String id() {
        return info.id();
    }

    public String name() {
        return info.name();
    }

    public String project() {
        return info.project();
    }

    /** Records values at a step, with the current wall time. NaN and infinities are kept as they are. */
    public void log(long step, Map<String, Double> values) {
        if (ended) throw new IllegalStateException("run " + id() + " has ended; resume it to log more");
        tracker.writer().log(cursor, step, values);
        lastStep = step;
    }

    void logSystem(Map<String, Double> values) {
        if (!ended) tracker.writer().log(cursor, lastStep, values);
    }

    /** Blocks until every point logged so far is committed to the local store. */
    public void flush() {
        tracker.writer().flush().join();
    }

    public void finish() {
        end(RunStatus.FINISHED, null);
    }

    /** Marks the run failed, keeping the error's message in its notes. */
    public void fail(Throwable error) {
        end(RunStatus.FAILED, "failed: " + error);
    }

    synchronized void end(RunStatus status, String notes) {
        if (ended) return;
        ended = true;
        String kept = notes == null ? info.notes()
                : (info.notes() == null || info.notes().isBlank() ? notes : info.notes() + "\n" + notes);
        tracker.ended(this, status, kept);
    }

    @Override
    public void close() {
        finish();
    }
}
