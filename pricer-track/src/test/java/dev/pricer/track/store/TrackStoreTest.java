package dev.pricer.track.store;

import dev.pricer.track.model.Point;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunQuery;
import dev.pricer.track.model.RunStatus;
import dev.pricer.track.model.Series;
import dev.pricer.track.query.SeriesCache;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrackStoreTest {

    @TempDir
    Path home;

    static RunInfo run(String id, String project, String name, RunStatus status, long started, List<String> tags,
                       Map<String, String> config) {
        return new RunInfo(id, project, name, null, status, started, null, System.currentTimeMillis(), "host", null,
                "cmd", null, tags, config, 0, Map.of());
    }

    @Test
    void migrationsRunOnceAndReopeningKeepsData() throws Exception {
        try (TrackStore store = TrackStore.openHome(home)) {
            store.upsertRun(run("a", "p", "first", RunStatus.RUNNING, 1, List.of(), Map.of()));
        }
        try (TrackStore store = TrackStore.openHome(home)) {
            assertEquals("first", store.requireRun("a").name());
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + home.resolve("track.db"));
             var r = c.createStatement().executeQuery("SELECT COUNT(*) FROM schema_migrations")) {
            r.next();
            assertEquals(2, r.getInt(1), "one row per migration, each applied once");
        }
    }

    /** A deleted run leaves no row behind (config, tags, series, points); other runs keep theirs; a running run stays. */
    @Test
    void aDeletedRunLeavesNothingAndARunningOneIsKept() throws Exception {
        try (TrackStore store = TrackStore.openHome(home)) {
            store.upsertRun(run("gone", "p", "gone", RunStatus.FINISHED, 1, List.of("qlora"), Map.of("lr", "1e-4")));
            store.upsertRun(run("kept", "p", "kept", RunStatus.FINISHED, 2, List.of("qlora"), Map.of("lr", "2e-4")));
            store.upsertRun(run("live", "p", "live", RunStatus.RUNNING, 3, List.of(), Map.of()));
            for (String id : List.of("gone", "kept")) {
                store.append(Map.of(id, List.of(new Point(1, "loss", 0, 1, 1, 0.5), new Point(2, "lr", 0, 1, 1, 1e-4))));
            }
            store.deleteRun("gone");
            assertTrue(store.run("gone").isEmpty());
            assertThrows(NoSuchRunException.class, () -> store.deleteRun("gone"));
            assertEquals(2, store.countPoints("kept"));
            assertEquals(Map.of("lr", "2e-4"), store.requireRun("kept").config());
            assertEquals("run live is still running: stop it first (or wait 2 minutes after its process died, when it reads as crashed)",
                    assertThrows(IllegalStateException.class, () -> store.deleteRun("live")).getMessage());
            assertTrue(store.run("live").isPresent());
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + home.resolve("track.db")); var statement = c.createStatement()) {
            for (String table : List.of("metrics", "series", "run_config", "run_tags")) {
                try (var r = statement.executeQuery("SELECT COUNT(*) FROM " + table)) {
                    r.next();
                    assertEquals(table.equals("metrics") || table.equals("series") ? 2 : 1, r.getInt(1), table + " holds only the kept run's rows");
                }
            }
        }
    }

    /** A run copied from a server lands whole, synced up to its last point, or not at all. */
    @Test
    void anImportedRunLandsWholeOrNotAtAll() {
        try (TrackStore store = TrackStore.openHome(home)) {
            RunInfo run = run("elsewhere", "p", "moved", RunStatus.CRASHED, 1, List.of("qlora"), Map.of("lr", "1e-4"));
            List<Point> broken = List.of(new Point(1, "loss", 0, 1, 1, 0.5), new Point(2, null, 0, 2, 2, 0.4));
            assertThrows(RuntimeException.class, () -> store.importRun(run, broken, 5));
            assertTrue(store.run("elsewhere").isEmpty(), "a failed copy leaves no part of the run");

            store.importRun(run, List.of(new Point(1, "loss", 0, 1, 1, 0.5), new Point(2, "loss", 0, 2, 2, 0.4)), System.currentTimeMillis());
            assertEquals(2, store.countPoints("elsewhere"));
            assertEquals(2, store.syncedSeq("elsewhere"), "synced up to the last point: nothing goes back up");
            assertEquals(2, store.resumePoint("elsewhere").lastSeq());
            assertEquals(Map.of("lr", "1e-4"), store.requireRun("elsewhere").config());
        }
    }

    @Test
    void runsAreFilteredAndSorted() {
        try (TrackStore store = TrackStore.openHome(home)) {
            store.upsertRun(run("a", "p", "alpha", RunStatus.FINISHED, 1, List.of("qlora"), Map.of("lr", "1e-4")));
            store.upsertRun(run("b", "p", "beta", RunStatus.RUNNING, 2, List.of("lora"), Map.of("lr", "2e-4")));
            store.upsertRun(run("c", "p", "gamma", RunStatus.FAILED, 3, List.of("qlora"), Map.of("lr", "3e-5")));
            store.upsertRun(run("d", "other", "delta", RunStatus.FINISHED, 4, List.of(), Map.of()));
            store.append(Map.of("a", List.of(new Point(1, "loss", 0, 1, 1, 0.5)),
                    "b", List.of(new Point(1, "loss", 0, 1, 1, 0.25)), "c", List.of(new Point(1, "loss", 0, 1, 1, 0.75))));
            assertEquals(List.of("c", "b", "a"), ids(store.runs(RunQuery.project("p"))));
            assertEquals(List.of("c", "a"), ids(store.runs(RunQuery.project("p").withTag("qlora"))));
            assertEquals(List.of("b"), ids(store.runs(RunQuery.project("p").withStatus(RunStatus.RUNNING))));
            assertEquals(List.of("b"), ids(store.runs(RunQuery.project("p").withConfig("lr", "2e-4"))));
            assertEquals(List.of("c", "a", "b"), ids(store.runs(RunQuery.project("p").sortedBy("config.lr", false))));
            assertEquals(List.of("b", "a", "c"), ids(store.runs(RunQuery.project("p").sortedBy("metric.loss", false))));
            assertEquals(List.of("a", "b", "c"), ids(store.runs(RunQuery.project("p").sortedBy("name", false))));
            assertThrows(IllegalArgumentException.class, () -> store.runs(RunQuery.project("p").sortedBy("drop table", false)));
            assertEquals(2, store.projects().size());
            assertEquals(3, store.projects().stream().filter(p -> p.name().equals("p")).findFirst().orElseThrow().runs());
        }
    }

    @Test
    void aRunWithStaleHeartbeatsShowsAsCrashed() {
        try (TrackStore store = TrackStore.openHome(home)) {
            store.upsertRun(run("a", "p", "x", RunStatus.RUNNING, 1, List.of(), Map.of()));
            store.heartbeat(List.of("a"), System.currentTimeMillis() - TrackStore.CRASH_AFTER.toMillis() - 1000);
            assertEquals(RunStatus.CRASHED, store.requireRun("a").status());
            store.heartbeat(List.of("a"), System.currentTimeMillis());
            assertEquals(RunStatus.RUNNING, store.requireRun("a").status());
        }
    }

    @Test
    void appendingTheSamePointsTwiceStoresThemOnce() {
        try (TrackStore store = TrackStore.openHome(home)) {
            store.upsertRun(run("a", "p", "x", RunStatus.RUNNING, 1, List.of(), Map.of()));
            List<Point> points = List.of(new Point(1, "loss", 0, 1, 1, 1.0), new Point(2, "loss", 0, 2, 2, 0.9));
            store.append(Map.of("a", points));
            store.append(Map.of("a", points));
            assertEquals(2, store.countPoints("a"));
            assertThrows(NoSuchRunException.class, () -> store.append(Map.of("nope", points)));
            assertEquals(2, store.countPoints("a"), "a failed batch leaves what was stored");
        }
    }

    @Test
    void namesWithQuotesAndSqlComeBackAsText() {
        String name = "Robert'); DROP TABLE runs;-- \"<b>x</b>\"";
        try (TrackStore store = TrackStore.openHome(home)) {
            store.upsertRun(run("a", name, name, RunStatus.RUNNING, 1, List.of(name), Map.of(name, name)));
            RunInfo back = store.requireRun("a");
            assertEquals(name, back.name());
            assertEquals(name, back.project());
            assertEquals(List.of(name), back.tags());
            assertEquals(Map.of(name, name), back.config());
            assertEquals(List.of("a"), ids(store.runs(RunQuery.project(name).withConfig(name, name))));
        }
    }

    @Test
    void theSeriesCacheFollowsNewPointsAndSegments() {
        try (TrackStore store = TrackStore.openHome(home)) {
            store.upsertRun(run("a", "p", "x", RunStatus.RUNNING, 1, List.of(), Map.of()));
            List<Point> points = new ArrayList<>();
            for (int i = 1; i <= 5_000; i++) points.add(new Point(i, "loss", 0, i, i, i % 100 == 0 ? 50.0 : 1.0));
            store.append(Map.of("a", points));
            SeriesCache cache = new SeriesCache(store, 1_000_000);
            List<Series> series = cache.query("a", "loss", null, null, 100);
            assertEquals(1, series.size());
            assertEquals(100, series.getFirst().size());
            assertTrue(series.getFirst().downsampled());
            assertEquals(1.0, series.getFirst().max()[0]);
            assertEquals(50.0, series.getFirst().max()[1], "the spike at step 100 is in the second bucket");
            store.append(Map.of("a", List.of(new Point(5_001, "loss", 1, 10, 9_999, 7.0))));
            series = cache.query("a", "loss", 1L, 20L, 100);
            assertEquals(2, series.size());
            assertEquals(20, series.get(0).size());
            assertEquals(7.0, series.get(1).last()[0]);
            assertEquals(1, series.get(1).segment());
        }
    }

    private static List<String> ids(List<RunInfo> runs) {
        return runs.stream().map(RunInfo::id).toList();
    }
}
