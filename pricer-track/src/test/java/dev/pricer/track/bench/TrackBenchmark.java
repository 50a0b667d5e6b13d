package dev.pricer.track.bench;

import dev.pricer.track.Run;
import dev.pricer.track.RunSpec;
import dev.pricer.track.Tracker;
import dev.pricer.track.TrackerOptions;
import dev.pricer.track.model.Point;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunStatus;
import dev.pricer.track.model.Series;
import dev.pricer.track.query.SeriesCache;
import dev.pricer.track.store.Database;
import dev.pricer.track.store.TrackStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The tracking speed goals, ours and a peer side by side in one run (see BENCHMARKS.md):
 * <ol>
 *   <li>ingest: points per second from {@code Run.log} into the local store, against the way a plain SQL
 *       tracker stores them (MLflow's SQL store commits each logged metric in its own transaction);</li>
 *   <li>downsample a 1,000,000-point history to 1,000 min/max/last buckets: our server's query, against the
 *       same buckets computed by SQLite itself with GROUP BY.</li>
 * </ol>
 * Run: {@code bench/track.sh}.
 */
public final class TrackBenchmark {

    /** CPU time shows what the wall clock hides on a shared machine. */
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("pricer-track-bench");
        ingest(dir.resolve("ingest"));
        downsample(dir.resolve("downsample"));
    }

    private static void ingest(Path home) throws Exception {
        int steps = 250_000;
        String[] keys = {"train/loss", "train/learning_rate", "train/grad_norm", "train/epoch"};
        double best = 0;
        for (int round = 0; round < 3; round++) {
            try (Tracker tracker = Tracker.open(TrackerOptions.local(home.resolve("r" + round)).withSystemMetricsEvery(Duration.ZERO))) {
                Run run = tracker.start(RunSpec.of("bench"));
                long t0 = System.nanoTime();
                long cpu0 = OS.getProcessCpuTime();
                for (int step = 1; step <= steps; step++) {
                    run.log(step, Map.of(keys[0], 1.0 / step, keys[1], 2e-4, keys[2], 0.5, keys[3], step / 1e5));
                }
                run.flush();
                double seconds = (System.nanoTime() - t0) / 1e9;
                double cpuSeconds = (OS.getProcessCpuTime() - cpu0) / 1e9;
                long stored = tracker.store().countPoints(run.id());
                if (stored != 4L * steps) throw new IllegalStateException("stored " + stored + " points, logged " + 4L * steps);
                best = Math.max(best, stored / seconds);
                System.out.printf("ingest ours  round %d: %,d points in %.2f s = %,.0f points/s (%.2f s of CPU, all threads: %,.0f points per CPU-second)%n",
                        round, stored, seconds, stored / seconds, cpuSeconds, stored / cpuSeconds);
                run.finish();
            }
        }
        int peerPoints = 20_000;
        double peer;
        try (TrackStore schema = TrackStore.openHome(home.resolve("peer"))) {
            schema.upsertRun(new RunInfo("peer", "bench", "peer", null, RunStatus.RUNNING, 1, null, 1, null, null, null, null,
                    List.of(), Map.of(), 0, Map.of()));
        }
        try (Connection c = Database.sqlite(home.resolve("peer").resolve("track.db")).connect()) {
            long t0 = System.nanoTime();
            try (PreparedStatement insert = c.prepareStatement(
                    "INSERT INTO metrics (series_id, seq, segment, step, wall_ms, value) VALUES (?, ?, 0, ?, ?, ?)")) {
                for (int i = 0; i < peerPoints; i++) {
                    insert.setLong(1, i % 4 + 1);
                    insert.setLong(2, i + 1);
                    insert.setLong(3, i / 4 + 1);
                    insert.setLong(4, System.currentTimeMillis());
                    insert.setDouble(5, 1.0 / (i + 1));
                    insert.executeUpdate();
                }
            }
            peer = peerPoints / ((System.nanoTime() - t0) / 1e9);
        }
        System.out.printf("ingest peer (a transaction per point, as MLflow's SQL store): %,.0f points/s%n", peer);
        System.out.printf("INGEST ours %,.0f points/s, peer %,.0f points/s, ratio %.1fx (goal: >= 200,000 points/s)%n", best, peer, best / peer);
    }

    private static void downsample(Path home) throws Exception {
        int n = 1_000_000;
        try (TrackStore store = TrackStore.openHome(home)) {
            store.upsertRun(new RunInfo("big", "bench", "big", null, RunStatus.FINISHED, 1, 2L, 1, null, null, null, null,
                    List.of(), Map.of(), 0, Map.of()));
            List<Point> batch = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                batch.add(new Point(i, "train/loss", 0, i, 1_000L * i, Math.exp(-i / 2e5) + (i % 9_973 == 0 ? 5 : 0)));
                if (batch.size() == 100_000) {
                    store.append(Map.of("big", batch));
                    batch = new ArrayList<>();
                }
            }
            SeriesCache cache = new SeriesCache(store, 50_000_000);
            long c0 = System.nanoTime();
            cache.query("big", "train/loss", null, null, 1000);
            double coldMs = (System.nanoTime() - c0) / 1e6;
            double[] ours = new double[50];
            Series last = null;
            for (int i = 0; i < ours.length; i++) {
                long t0 = System.nanoTime();
                last = cache.query("big", "train/loss", null, null, 1000).getFirst();
                ours[i] = (System.nanoTime() - t0) / 1e6;
            }
            Arrays.sort(ours);
            if (last.size() != 1000 || last.totalPoints() != n) throw new IllegalStateException("wrong buckets: " + last.size());
            double oursMedian = ours[ours.length / 2];
            System.out.printf("downsample ours: first query (loads 1M points from SQLite) %.1f ms; then median %.2f ms, max %.2f ms%n",
                    coldMs, oursMedian, ours[ours.length - 1]);

            double[] peer = new double[5];
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + home.resolve("track.db"))) {
                for (int i = 0; i < peer.length; i++) {
                    long t0 = System.nanoTime();
                    int rows = 0;
                    try (PreparedStatement q = c.prepareStatement("""
                            SELECT b, MIN(value), MAX(value), MAX(seq) FROM (
                                SELECT CAST((m.step - 1) * 1000 / ? AS INTEGER) AS b, m.value, m.seq
                                FROM series s JOIN metrics m ON m.series_id = s.id
                                WHERE s.run_id = 'big' AND s.key = 'train/loss') GROUP BY b ORDER BY b""")) {
                        q.setLong(1, n);
                        try (ResultSet r = q.executeQuery()) {
                            while (r.next()) rows++;
                        }
                    }
                    if (rows != 1000) throw new IllegalStateException("peer made " + rows + " buckets");
                    peer[i] = (System.nanoTime() - t0) / 1e6;
                }
            }
            Arrays.sort(peer);
            double peerMedian = peer[peer.length / 2];
            System.out.printf("downsample peer (SQLite GROUP BY, min/max only, no last value): median %.1f ms%n", peerMedian);
            System.out.printf("DOWNSAMPLE ours %.2f ms (cold %.0f ms), peer %.1f ms, ratio %.0fx (goal: <= 50 ms)%n",
                    oursMedian, coldMs, peerMedian, peerMedian / oursMedian);
        }
    }
}
