package dev.pricer.track;

import dev.pricer.track.model.Names;
import dev.pricer.track.model.Point;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunStatus;
import dev.pricer.track.store.TrackStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrackerTest {

    @TempDir
    Path home;

    private Tracker tracker() {
        return Tracker.open(TrackerOptions.local(home).withSystemMetricsEvery(Duration.ZERO));
    }

    @Test
    void aRunKeepsItsConfigMetricsAndStatus() {
        String id;
        try (Tracker tracker = tracker()) {
            Run run = tracker.start(RunSpec.of("pricer")
                    .withConfig(Map.of("lr", 2e-4, "lora", Map.of("r", 16, "alpha", 32)))
                    .withTags(List.of("qlora")).withGitCommit("0123456789abcdef0123456789abcdef01234567"));
            id = run.id();
            assertTrue(run.name().matches("\\d{4}-\\d\\d-\\d\\d_\\d\\d\\.\\d\\d\\.\\d\\d"), run.name());
            for (int step = 1; step <= 100; step++) {
                run.log(step, Map.of("train/loss", 3.0 - step * 0.01, "train/learning_rate", 1e-4));
            }
            run.log(100, Map.of("eval/loss", 1.5));
            run.finish();
        }
        try (TrackStore store = TrackStore.openHome(home)) {
            RunInfo run = store.requireRun(id);
            assertEquals(RunStatus.FINISHED, run.status());
            assertEquals(Map.of("lr", "2.0E-4", "lora.r", "16", "lora.alpha", "32"), run.config());
            assertEquals(List.of("qlora"), run.tags());
            assertEquals(201, run.lastSeq());
            assertEquals(2.0, run.lastValues().get("train/loss"), 1e-12);
            assertEquals(1.5, run.lastValues().get("eval/loss"));
            assertTrue(run.endedMs() != null && run.endedMs() >= run.startedMs());
            assertEquals(201, store.countPoints(id));
            List<Point> loss = store.history(id, "train/loss", 0, 1000);
            assertEquals(100, loss.size());
            assertEquals(1, loss.getFirst().step());
            assertEquals(List.of("eval/loss", "train/learning_rate", "train/loss"), store.keys(id));
        }
    }

    @Test
    void nanAndInfinityAreStoredAsTheyAre() {
        try (Tracker tracker = tracker()) {
            Run run = tracker.start(RunSpec.of("p"));
            run.log(1, Map.of("loss", 1.0));
            run.log(2, Map.of("loss", Double.NaN));
            run.log(3, Map.of("loss", Double.POSITIVE_INFINITY));
            run.log(4, Map.of("loss", Double.NEGATIVE_INFINITY));
            run.finish();
            List<Point> points = tracker.store().history(run.id(), "loss", 0, 10);
            assertEquals(1.0, points.get(0).value());
            assertTrue(Double.isNaN(points.get(1).value()));
            assertEquals(Double.POSITIVE_INFINITY, points.get(2).value());
            assertEquals(Double.NEGATIVE_INFINITY, points.get(3).value());
        }
    }

    @Test
    void stepsThatGoBackAfterAResumeStartANewSegment() {
        String id;
        try (Tracker tracker = tracker()) {
            Run run = tracker.start(RunSpec.of("p"));
            id = run.id();
            for (int step = 1; step <= 60; step++) run.log(step, Map.of("train/loss", (double) step));
            run.fail(new IllegalStateException("out of memory"));
        }
        try (Tracker tracker = tracker()) {
            Run run = tracker.resume(id);
            for (int step = 51; step <= 80; step++) run.log(step, Map.of("train/loss", (double) -step));
            run.finish();
        }
        try (TrackStore store = TrackStore.openHome(home)) {
            List<Point> points = store.history(id, "train/loss", 0, 1000);
            assertEquals(90, points.size(), "nothing is dropped");
            assertEquals(60, points.stream().filter(p -> p.segment() == 0).count());
            assertEquals(30, points.stream().filter(p -> p.segment() == 1).count());
            assertEquals(51, points.stream().filter(p -> p.segment() == 1).findFirst().orElseThrow().step());
            RunInfo run = store.requireRun(id);
            assertEquals(RunStatus.FINISHED, run.status());
            assertTrue(run.notes().contains("out of memory"), run.notes());
        }
    }

    @Test
    void badInputIsRefusedWithItsName() {
        try (Tracker tracker = tracker()) {
            Run run = tracker.start(RunSpec.of("p"));
            java.util.HashMap<String, Double> values = new java.util.HashMap<>();
            values.put("train/loss", null);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run.log(1, values));
            assertTrue(e.getMessage().contains("train/loss"), e.getMessage());
            run.finish();
            assertThrows(IllegalStateException.class, () -> run.log(2, Map.of("x", 1.0)));
        }
        assertThrows(IllegalArgumentException.class, () -> RunSpec.of(" "));
    }

    /** The local store holds names to the server's limits, so that a run logged offline can always be synced. */
    @Test
    void namesPastTheServersLimitsAreRefusedLocally() {
        String longName = "n".repeat(Names.NAME + 1);
        IllegalArgumentException project = assertThrows(IllegalArgumentException.class, () -> RunSpec.of("p".repeat(Names.PROJECT + 1)));
        assertTrue(project.getMessage().contains("more than " + Names.PROJECT), project.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RunSpec.of("p").withName(longName));
        try (Tracker tracker = tracker()) {
            Run run = tracker.start(RunSpec.of("p").withName("n".repeat(Names.NAME)));
            IllegalArgumentException key = assertThrows(IllegalArgumentException.class, () -> run.log(1, Map.of(longName, 1.0)));
            assertTrue(key.getMessage().contains("a metric key is " + (Names.NAME + 1) + " characters long"), key.getMessage());
            IllegalArgumentException rename = assertThrows(IllegalArgumentException.class, () -> tracker.store().rename(run.id(), longName));
            assertTrue(rename.getMessage().contains("a run name"), rename.getMessage());
            run.finish();
        }
    }

    @Test
    void systemMetricsAreSampledWhileARunIsOpen() throws Exception {
        try (Tracker tracker = Tracker.open(TrackerOptions.local(home).withSystemMetricsEvery(Duration.ofMillis(50)))) {
            Run run = tracker.start(RunSpec.of("p"));
            run.log(7, Map.of("train/loss", 1.0));
            long deadline = System.currentTimeMillis() + 5_000;
            while (!tracker.store().keys(run.id()).contains("system/cpu_percent") && System.currentTimeMillis() < deadline) {
                run.flush();
                Thread.sleep(50);
            }
            run.finish();
            List<String> keys = tracker.store().keys(run.id());
            assertTrue(keys.contains("system/cpu_percent") && keys.contains("system/memory_used_mb"), keys.toString());
            assertEquals(7, tracker.store().history(run.id(), "system/memory_used_mb", 0, 1).getFirst().step());
        }
    }
}
