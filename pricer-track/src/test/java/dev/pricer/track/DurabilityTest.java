package dev.pricer.track;

import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunQuery;
import dev.pricer.track.model.RunStatus;
import dev.pricer.track.store.TrackStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The durability policy of API.md, tested against real process deaths. */
class DurabilityTest {

    @TempDir
    Path home;

    /** A child process that logs {@code steps} steps of three keys, then exits as {@code how} says. */
    public static void main(String[] args) throws Exception {
        Path home = Path.of(args[0]);
        int steps = Integer.parseInt(args[1]);
        String how = args[2];
        Tracker tracker = Tracker.open(TrackerOptions.local(home).withSystemMetricsEvery(Duration.ZERO));
        Run run = tracker.start(RunSpec.of("durability"));
        for (int step = 1; step <= steps; step++) {
            run.log(step, Map.of("train/loss", 1.0 / step, "train/learning_rate", 1e-4, "train/grad_norm", 0.5));
        }
        switch (how) {
            case "flush-then-wait" -> {
                run.flush();
                System.out.println("flushed");
                System.out.flush();
                Thread.sleep(60_000);
            }
            case "exit" -> System.exit(3);
            default -> throw new IllegalArgumentException(how);
        }
    }

    private Process child(int steps, String how) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), DurabilityTest.class.getName(),
                home.toString(), Integer.toString(steps), how).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    @Test
    void sigkillAfterFlushLosesNothing() throws Exception {
        Process child = child(20_000, "flush-then-wait");
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()))) {
            assertEquals("flushed", out.readLine());
        }
        child.destroyForcibly();
        assertTrue(child.waitFor(10, TimeUnit.SECONDS));
        try (TrackStore store = TrackStore.openHome(home)) {
            RunInfo run = store.runs(RunQuery.project("durability")).getFirst();
            assertEquals(60_000, store.countPoints(run.id()));
            assertEquals(RunStatus.RUNNING, run.status(), "no hook ran: it shows as crashed once its heartbeats are stale");
        }
    }

    @Test
    void exitingWithoutFinishingKeepsEveryPointAndMarksTheRunCrashed() throws Exception {
        Process child = child(20_000, "exit");
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        assertEquals(3, child.exitValue());
        try (TrackStore store = TrackStore.openHome(home)) {
            List<RunInfo> runs = store.runs(RunQuery.project("durability"));
            assertEquals(1, runs.size());
            assertEquals(60_000, store.countPoints(runs.getFirst().id()));
            assertEquals(RunStatus.CRASHED, runs.getFirst().status());
        }
    }
}
