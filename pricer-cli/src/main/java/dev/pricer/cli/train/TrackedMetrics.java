package dev.pricer.cli.train;

import dev.pricer.track.Run;
import dev.pricer.train.metrics.MetricsSink;

import java.io.IOException;
import java.util.Map;

/**
 * The trainer's metrics into a tracked run (and on into the run folder's own file, so the folder stays a
 * complete record without the tracker). Logging only queues in the tracker, so the loop never waits on SQLite.
 */
public final class TrackedMetrics implements MetricsSink {

    private final Run run;
    private final MetricsSink folder;

    public TrackedMetrics(Run run, MetricsSink folder) {
        this.run = run;
        this.folder = folder;
    }

    @Override
    public void log(int step, Map<String, Double> metrics) throws IOException {
        folder.log(step, metrics);
        run.log(step, metrics);
    }

    /** Ends the folder's file; the run itself is finished or failed by whoever started it. */
    @Override
    public void close() throws IOException {
        folder.close();
        run.flush();
    }
}
