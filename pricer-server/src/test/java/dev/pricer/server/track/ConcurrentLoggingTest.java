package dev.pricer.server.track;

import dev.pricer.track.Run;
import dev.pricer.track.RunSpec;
import dev.pricer.track.Tracker;
import dev.pricer.track.TrackerOptions;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunQuery;
import dev.pricer.track.model.RunStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ConcurrentLoggingTest {

    private static final int RUNS = 50;
    private static final int STEPS = 200;

    @TempDir
    Path dir;

    /** 50 trainers, each with its own local store, stream to one server at once; every point arrives. */
    @Test
    void fiftyRunsLoggingAtOnceLoseNoPoint() throws Exception {
        try (TrackServerFixture fixture = new TrackServerFixture(dir.resolve("server"));
             ExecutorService pool = Executors.newFixedThreadPool(RUNS)) {
            List<Future<String>> ids = new ArrayList<>();
            for (int r = 0; r < RUNS; r++) {
                Path home = dir.resolve("client-" + r);
                ids.add(pool.submit(() -> {
                    try (Tracker tracker = Tracker.open(TrackerOptions.local(home).withServer(fixture.uri())
                            .withSystemMetricsEvery(Duration.ZERO))) {
                        Run run = tracker.start(RunSpec.of("load"));
                        for (int step = 1; step <= STEPS; step++) {
                            run.log(step, Map.of("train/loss", 1.0 / step, "train/learning_rate", 1e-4 * step, "train/grad_norm", 1.0));
                            if (step % 20 == 0) Thread.sleep(2);
                        }
                        run.finish();
                        return run.id();
                    }
                }));
            }
            for (Future<String> id : ids) {
                String runId = id.get();
                assertEquals(3L * STEPS, fixture.store.countPoints(runId), "points of run " + runId);
            }
            List<RunInfo> runs = fixture.store.runs(RunQuery.project("load"));
            assertEquals(RUNS, runs.size());
            for (RunInfo run : runs) {
                assertEquals(RunStatus.FINISHED, run.status());
                assertEquals(3L * STEPS, run.lastSeq());
            }
        }
    }
}
