package dev.pricer.track.store;

import dev.pricer.track.model.Names;
import dev.pricer.track.model.Point;
import dev.pricer.track.model.ProjectInfo;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunQuery;
import dev.pricer.track.model.RunStatus;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Projects, runs and metric points in a SQL database. One connection writes (behind a lock, as SQLite
 * allows one writer); a few more read concurrently. All SQL here is portable between SQLite and PostgreSQL.
 */
public final class TrackStore implements AutoCloseable {

    /** A running run whose heartbeat is older than this is shown as crashed. */
    public static final Duration CRASH_AFTER = Duration.ofMinutes(2);

    private static final int READERS = 4;
    private static final List<String> PALETTE = List.of(
            "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
            "#bcbd22", "#7f7f7f", "#393b79", "#ad494a");

    private final Database database;
    private final Connection writer;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final BlockingQueue<Connection> readers = new ArrayBlockingQueue<>(READERS);

    private TrackStore(Database database) throws SQLException {
        this.database = database;
        this.writer = database.connect();
        Migrations.apply(writer);
        writer.setAutoCommit(false);
        for (int i = 0; i < READERS; i++) readers.add(database.connect());
    }

    public static TrackStore open(Database database) {
        try {
            return new TrackStore(database);
        } catch (SQLException e) {
            throw new StoreException("cannot open the track store " + database.describe() + ": " + e.getMessage(), e);
        }
    }

    /** The store of a Pricer home folder: {@code home/track.db}. */
    public static TrackStore openHome(Path home) {
        return open(Database.sqlite(home.resolve("track.db")));
    }

    public String describe() {
        return database.describe();
    }

    // ---- writes ----------------------------------------------------------------------------------

    /** Creates an empty project; an existing one is left as it is. */
    public void createProject(String name, long createdMs) {
        Names.require("a project name", name, Names.PROJECT);
        write(c -> {
            insertProject(c, name, createdMs);
            return null;
        });
    }

    private static void insertProject(Connection c, String name, long createdMs) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(
                "INSERT INTO projects (name, created_ms) VALUES (?, ?) ON CONFLICT (name) DO NOTHING")) {
            p.setString(1, name);
            p.setLong(2, createdMs);
            p.executeUpdate();
        }
    }

    /** Creates the run (and its project), or, when the id exists, updates what may change. */
    public void upsertRun(RunInfo run) {
        write(c -> {
            upsertIn(c, run);
            return null;
        });
    }

    /**
     * A run tracked elsewhere, with its points as numbered there, marked as synced up to the last of them: in one
     * transaction, so that a copy cut off midway leaves no part of the run (a half history would number the run's new
     * points below the server's, which would drop them as already seen).
     */
    public void importRun(RunInfo run, List<Point> points, long syncedMs) {
        write(c -> {
            upsertIn(c, run);
            if (!points.isEmpty()) appendIn(c, Map.of(run.id(), points));
            markSyncedIn(c, run.id(), points.isEmpty() ? 0 : points.getLast().seq(), syncedMs);
            return null;
        });
    }

    private static void upsertIn(Connection c, RunInfo run) throws SQLException {
        Names.require("a run id", run.id(), Names.ID);
        Names.require("run " + run.id() + "'s project name", run.project(), Names.PROJECT);
        Names.require("run " + run.id() + "'s name", run.name(), Names.NAME);
        insertProject(c, run.project(), run.startedMs());
        try (PreparedStatement p = c.prepareStatement("""
                INSERT INTO runs (id, project, name, colour, status, started_ms, ended_ms, heartbeat_ms, host,
                                  git_commit, command, notes, updated_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status,
                    ended_ms = excluded.ended_ms, heartbeat_ms = excluded.heartbeat_ms, notes = excluded.notes,
                    updated_ms = excluded.updated_ms""")) {
            p.setString(1, run.id());
            p.setString(2, run.project());
            p.setString(3, run.name());
            p.setString(4, run.colour() != null ? run.colour() : nextColour(c, run.project()));
            p.setString(5, run.status().wire());
            p.setLong(6, run.startedMs());
            setNullableLong(p, 7, run.endedMs());
            p.setLong(8, run.heartbeatMs());
            p.setString(9, run.host());
            p.setString(10, run.gitCommit());
            p.setString(11, run.command());
            p.setString(12, run.notes());
            p.setLong(13, System.currentTimeMillis());
            p.executeUpdate();
        }
        replaceConfig(c, run.id(), run.config());
        replaceTags(c, run.id(), run.tags());
    }

    private static String nextColour(Connection c, String project) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM runs WHERE project = ?")) {
            p.setString(1, project);
            try (ResultSet r = p.executeQuery()) {
                r.next();
                return PALETTE.get((int) (r.getLong(1) % PALETTE.size()));
            }
        }
    }

    private static void replaceConfig(Connection c, String runId, Map<String, String> config) throws SQLException {
        try (PreparedStatement delete = c.prepareStatement("DELETE FROM run_config WHERE run_id = ?")) {
            delete.setString(1, runId);
            delete.executeUpdate();
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO run_config (run_id, key, value) VALUES (?, ?, ?)")) {
            for (var e : config.entrySet()) {
                p.setString(1, runId);
                p.setString(2, e.getKey());
                p.setString(3, e.getValue());
                p.addBatch();
            }
            p.executeBatch();
        }
    }

    private static void replaceTags(Connection c, String runId, Collection<String> tags) throws SQLException {
        try (PreparedStatement delete = c.prepareStatement("DELETE FROM run_tags WHERE run_id = ?")) {
            delete.setString(1, runId);
            delete.executeUpdate();
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO run_tags (run_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING")) {
            for (String tag : tags) {
                p.setString(1, runId);
                p.setString(2, tag);
                p.addBatch();
            }
            p.executeBatch();
        }
    }

    public void rename(String runId, String name) {
        Names.require("a run name", name, Names.NAME);
        updateRun(runId, "name = ?", name);
    }

    public void setNotes(String runId, String notes) {
        updateRun(runId, "notes = ?", notes);
    }

    public void setTags(String runId, Collection<String> tags) {
        write(c -> {
            requireRun(c, runId);
            replaceTags(c, runId, tags);
            touch(c, runId);
            return null;
        });
    }

    /** Adds or changes config entries (the MLflow API logs parameters one at a time). */
    public void putConfig(String runId, Map<String, String> entries) {
        write(c -> {
            requireRun(c, runId);
            try (PreparedStatement p = c.prepareStatement(
                    "INSERT INTO run_config (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value")) {
                for (var e : entries.entrySet()) {
                    p.setString(1, runId);
                    p.setString(2, e.getKey());
                    p.setString(3, e.getValue());
                    p.addBatch();
                }
                p.executeBatch();
            }
            touch(c, runId);
            return null;
        });
    }

    /**
     * Deletes a run, its config, tags and every metric point, in one transaction. A run still running (its heartbeat
     * fresh) is refused with {@link IllegalStateException}: its tracker would go on writing to it.
     */
    public void deleteRun(String runId) {
        if (requireRun(runId).status() == RunStatus.RUNNING) {
            throw new IllegalStateException("run " + runId + " is still running: stop it first (or wait " + CRASH_AFTER.toMinutes()
                    + " minutes after its process died, when it reads as crashed)");
        }
        write(c -> {
            requireRun(c, runId);
            for (String delete : List.of("DELETE FROM metrics WHERE series_id IN (SELECT id FROM series WHERE run_id = ?)",
                    "DELETE FROM series WHERE run_id = ?", "DELETE FROM run_config WHERE run_id = ?", "DELETE FROM run_tags WHERE run_id = ?",
                    "DELETE FROM runs WHERE id = ?")) {
                try (PreparedStatement p = c.prepareStatement(delete)) {
                    p.setString(1, runId);
                    p.executeUpdate();
                }
            }
            return null;
        });
    }

    public void end(String runId, RunStatus status, long endedMs) {
        write(c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE runs SET status = ?, ended_ms = ?, updated_ms = ? WHERE id = ?")) {
                p.setString(1, status.wire());
                setNullableLong(p, 2, status.ended() ? endedMs : null);
                p.setLong(3, System.currentTimeMillis());
                p.setString(4, runId);
                if (p.executeUpdate() == 0) throw new NoSuchRunException(runId);
            }
            return null;
        });
    }

    public void heartbeat(Collection<String> runIds, long nowMs) {
        if (runIds.isEmpty()) return;
        write(c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE runs SET heartbeat_ms = ? WHERE id = ?")) {
                for (String id : runIds) {
                    p.setLong(1, nowMs);
                    p.setString(2, id);
                    p.addBatch();
                }
                p.executeBatch();
            }
            return null;
        });
    }

    private void updateRun(String runId, String assignment, String value) {
        write(c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE runs SET " + assignment + ", updated_ms = ? WHERE id = ?")) {
                p.setString(1, value);
                p.setLong(2, System.currentTimeMillis());
                p.setString(3, runId);
                if (p.executeUpdate() == 0) throw new NoSuchRunException(runId);
            }
            return null;
        });
    }

    private static void touch(Connection c, String runId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE runs SET updated_ms = ? WHERE id = ?")) {
            p.setLong(1, System.currentTimeMillis());
            p.setString(2, runId);
            p.executeUpdate();
        }
    }

    private static void requireRun(Connection c, String runId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM runs WHERE id = ?")) {
            p.setString(1, runId);
            try (ResultSet r = p.executeQuery()) {
                if (!r.next()) throw new NoSuchRunException(runId);
            }
        }
    }

    /**
     * Appends points to runs in one transaction. A point whose (run, key, seq) is already stored is
     * skipped, so uploads can be retried. Each run must exist.
     */
    public void append(Map<String, List<Point>> pointsByRun) {
        if (pointsByRun.isEmpty()) return;
        write(c -> {
            appendIn(c, pointsByRun);
            return null;
        });
    }

    private static void appendIn(Connection c, Map<String, List<Point>> pointsByRun) throws SQLException {
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO metrics (series_id, seq, segment, step, wall_ms, value) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
             PreparedStatement last = c.prepareStatement("""
                     UPDATE series SET last_seq = ?, last_segment = ?, last_step = ?, last_value = ?
                     WHERE id = ? AND last_seq < ?""");
             PreparedStatement seq = c.prepareStatement(
                     "UPDATE runs SET last_seq = ? WHERE id = ? AND last_seq < ?")) {
            for (var entry : pointsByRun.entrySet()) {
                String runId = entry.getKey();
                requireRun(c, runId);
                Map<String, Long> ids = new HashMap<>();
                Map<String, Point> latest = new LinkedHashMap<>();
                long maxSeq = 0;
                for (Point point : entry.getValue()) {
                    Long id = ids.get(point.key());
                    if (id == null) {
                        id = seriesId(c, runId, point.key());
                        ids.put(point.key(), id);
                    }
                    insert.setLong(1, id);
                    insert.setLong(2, point.seq());
                    insert.setInt(3, point.segment());
                    insert.setLong(4, point.step());
                    insert.setLong(5, point.wallMs());
                    setValue(insert, 6, point.value());
                    insert.addBatch();
                    latest.merge(point.key(), point, (a, b) -> b.seq() > a.seq() ? b : a);
                    maxSeq = Math.max(maxSeq, point.seq());
                }
                insert.executeBatch();
                for (Point point : latest.values()) {
                    last.setLong(1, point.seq());
                    last.setInt(2, point.segment());
                    last.setLong(3, point.step());
                    setValue(last, 4, point.value());
                    last.setLong(5, ids.get(point.key()));
                    last.setLong(6, point.seq());
                    last.addBatch();
                }
                last.executeBatch();
                seq.setLong(1, maxSeq);
                seq.setString(2, runId);
                seq.setLong(3, maxSeq);
                seq.executeUpdate();
            }
        }
    }

    /** The number of a run's key, made on first use (inside the writing transaction, so it is never taken twice). */
    private static long seriesId(Connection c, String runId, String key) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT id FROM series WHERE run_id = ? AND key = ?")) {
            p.setString(1, runId);
            p.setString(2, key);
            try (ResultSet r = p.executeQuery()) {
                if (r.next()) return r.getLong(1);
            }
        }
        long id;
        try (PreparedStatement p = c.prepareStatement("SELECT COALESCE(MAX(id), 0) + 1 FROM series");
             ResultSet r = p.executeQuery()) {
            r.next();
            id = r.getLong(1);
        }
        try (PreparedStatement p = c.prepareStatement("""
                INSERT INTO series (id, run_id, key, last_seq, last_segment, last_step, last_value)
                VALUES (?, ?, ?, 0, 0, 0, NULL)""")) {
            p.setLong(1, id);
            p.setString(2, runId);
            p.setString(3, key);
            p.executeUpdate();
        }
        return id;
    }

    /** A value logged through an API that does not number its points (MLflow). */
    public record Logged(String key, long step, long wallMs, double value) {
    }

    /**
     * Appends values, numbering them after the run's last seq in one transaction; a key whose step goes
     * below its last one starts that key's next segment.
     */
    public void appendNumbered(String runId, List<Logged> values) {
        write(c -> {
            requireRun(c, runId);
            long seq;
            try (PreparedStatement p = c.prepareStatement("SELECT last_seq FROM runs WHERE id = ?")) {
                p.setString(1, runId);
                try (ResultSet r = p.executeQuery()) {
                    r.next();
                    seq = r.getLong(1);
                }
            }
            Map<String, long[]> lastByKey = new LinkedHashMap<>();
            List<Point> points = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT last_segment, last_step FROM series WHERE run_id = ? AND key = ?")) {
                for (Logged value : values) {
                    long[] last = lastByKey.get(value.key());
                    if (last == null) {
                        p.setString(1, runId);
                        p.setString(2, value.key());
                        try (ResultSet r = p.executeQuery()) {
                            last = r.next() ? new long[]{r.getInt(1), r.getLong(2)} : new long[]{0, Long.MIN_VALUE};
                        }
                    }
                    if (value.step() < last[1]) last[0]++;
                    last[1] = value.step();
                    lastByKey.put(value.key(), last);
                    points.add(new Point(++seq, value.key(), (int) last[0], value.step(), value.wallMs(), value.value()));
                }
            }
            appendIn(c, Map.of(runId, points));
            return null;
        });
    }

    public void markSynced(String runId, long seq, long ms) {
        write(c -> {
            markSyncedIn(c, runId, seq, ms);
            return null;
        });
    }

    private static void markSyncedIn(Connection c, String runId, long seq, long ms) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE runs SET synced_seq = ?, synced_ms = ? WHERE id = ?")) {
            p.setLong(1, seq);
            p.setLong(2, ms);
            p.setString(3, runId);
            p.executeUpdate();
        }
    }

    /** Stores a new API token by its sha256 (the secret itself is never stored). */
    public void addToken(String sha256, String name, String owner, List<String> namespaces, long createdMs) {
        write(c -> {
            try (PreparedStatement p = c.prepareStatement(
                    "INSERT INTO tokens (sha256, name, owner, namespaces, created_ms) VALUES (?, ?, ?, ?, ?)")) {
                p.setString(1, sha256);
                p.setString(2, name);
                p.setString(3, owner);
                p.setString(4, String.join(",", namespaces));
                p.setLong(5, createdMs);
                p.executeUpdate();
            }
            return null;
        });
    }

    /** Marks the token whose id is {@code id} revoked; false when there is no such active token. */
    public boolean revokeToken(String id, long nowMs) {
        return write(c -> {
            try (PreparedStatement p = c.prepareStatement(
                    "UPDATE tokens SET revoked_ms = ? WHERE substr(sha256, 1, " + Token.ID_LENGTH + ") = ? AND revoked_ms IS NULL")) {
                p.setLong(1, nowMs);
                p.setString(2, id);
                return p.executeUpdate() > 0;
            }
        });
    }

    // ---- reads -----------------------------------------------------------------------------------

    /** The token stored with this sha256, revoked or not. */
    public Optional<Token> token(String sha256) {
        return read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT " + TOKEN_COLUMNS + " FROM tokens WHERE sha256 = ?")) {
                p.setString(1, sha256);
                try (ResultSet r = p.executeQuery()) {
                    return r.next() ? Optional.of(tokenRow(r)) : Optional.empty();
                }
            }
        });
    }

    /** Every token, oldest first, revoked ones included. */
    public List<Token> tokens() {
        return read(c -> {
            List<Token> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT " + TOKEN_COLUMNS + " FROM tokens ORDER BY created_ms, sha256");
                 ResultSet r = p.executeQuery()) {
                while (r.next()) out.add(tokenRow(r));
            }
            return out;
        });
    }

    public boolean hasActiveTokens() {
        return read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM tokens WHERE revoked_ms IS NULL");
                 ResultSet r = p.executeQuery()) {
                return r.next();
            }
        });
    }

    private static final String TOKEN_COLUMNS = "sha256, name, owner, namespaces, created_ms, revoked_ms";

    private static Token tokenRow(ResultSet r) throws SQLException {
        long revoked = r.getLong(6);
        Long revokedMs = r.wasNull() ? null : revoked;
        return new Token(r.getString(1).substring(0, Token.ID_LENGTH), r.getString(2), r.getString(3),
                List.of(r.getString(4).split(",")), r.getLong(5), revokedMs);
    }

    public List<ProjectInfo> projects() {
        return read(c -> {
            List<ProjectInfo> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("""
                    SELECT p.name, p.created_ms, COUNT(r.id), MAX(r.started_ms)
                    FROM projects p LEFT JOIN runs r ON r.project = p.name
                    GROUP BY p.name, p.created_ms ORDER BY p.name""");
                 ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    long last = r.getLong(4);
                    out.add(new ProjectInfo(r.getString(1), r.getLong(2), r.getInt(3), r.wasNull() ? null : last));
                }
            }
            return out;
        });
    }

    public Optional<RunInfo> run(String runId) {
        return read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT " + RUN_COLUMNS + " FROM runs WHERE id = ?")) {
                p.setString(1, runId);
                try (ResultSet r = p.executeQuery()) {
                    if (!r.next()) return Optional.empty();
                    return Optional.of(details(c, runRow(r)));
                }
            }
        });
    }

    public RunInfo requireRun(String runId) {
        return run(runId).orElseThrow(() -> new NoSuchRunException(runId));
    }

    /** Runs of a project with their config, tags and last values, filtered and sorted as asked. */
    public List<RunInfo> runs(RunQuery query) {
        return read(c -> {
            StringBuilder sql = new StringBuilder("SELECT " + RUN_COLUMNS + " FROM runs WHERE 1 = 1");
            List<String> args = new ArrayList<>();
            if (query.project() != null) {
                sql.append(" AND project = ?");
                args.add(query.project());
            }
            if (query.tag() != null) {
                sql.append(" AND EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id AND t.tag = ?)");
                args.add(query.tag());
            }
            if (query.configKey() != null) {
                sql.append(" AND EXISTS (SELECT 1 FROM run_config k WHERE k.run_id = runs.id AND k.key = ? AND k.value = ?)");
                args.add(query.configKey());
                args.add(query.configValue());
            }
            sql.append(" ORDER BY started_ms DESC");
            List<RunInfo> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement(sql.toString())) {
                for (int i = 0; i < args.size(); i++) p.setString(i + 1, args.get(i));
                try (ResultSet r = p.executeQuery()) {
                    while (r.next()) out.add(runRow(r));
                }
            }
            List<RunInfo> detailed = new ArrayList<>();
            for (RunInfo run : out) {
                if (query.status() == null || run.status() == query.status()) detailed.add(details(c, run));
            }
            detailed.sort(RunOrder.of(query.sort(), query.descending()));
            return detailed.size() > query.limit() ? detailed.subList(0, query.limit()) : detailed;
        });
    }

    /** Runs whose points or metadata the server has not acknowledged yet. */
    public List<RunInfo> unsynced() {
        return read(c -> {
            List<RunInfo> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT " + RUN_COLUMNS + " FROM runs WHERE synced_seq < last_seq OR synced_ms < updated_ms ORDER BY started_ms");
                 ResultSet r = p.executeQuery()) {
                while (r.next()) out.add(runRow(r));
            }
            List<RunInfo> detailed = new ArrayList<>();
            for (RunInfo run : out) detailed.add(details(c, run));
            return detailed;
        });
    }

    public long syncedSeq(String runId) {
        return read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT synced_seq FROM runs WHERE id = ?")) {
                p.setString(1, runId);
                try (ResultSet r = p.executeQuery()) {
                    if (!r.next()) throw new NoSuchRunException(runId);
                    return r.getLong(1);
                }
            }
        });
    }

    /**
     * A run's points of every key after {@code afterSeq}, in seq order, at most {@code limit} (for uploads).
     * It reads a window of seqs at a time, so each call costs its window, not the run's whole history.
     */
    public List<Point> pointsAfter(String runId, long afterSeq, int limit) {
        return read(c -> {
            long lastSeq;
            try (PreparedStatement p = c.prepareStatement("SELECT last_seq FROM runs WHERE id = ?")) {
                p.setString(1, runId);
                try (ResultSet r = p.executeQuery()) {
                    if (!r.next()) throw new NoSuchRunException(runId);
                    lastSeq = r.getLong(1);
                }
            }
            try (PreparedStatement p = c.prepareStatement("""
                    SELECT s.key, m.seq, m.segment, m.step, m.wall_ms, m.value
                    FROM series s JOIN metrics m ON m.series_id = s.id
                    WHERE s.run_id = ? AND m.seq > ? AND m.seq <= ? ORDER BY m.seq""")) {
                for (long from = afterSeq; from < lastSeq; from += limit) {
                    p.setString(1, runId);
                    p.setLong(2, from);
                    p.setLong(3, from + limit);
                    List<Point> points = points(p);
                    if (!points.isEmpty()) return points;
                }
                return List.of();
            }
        });
    }

    /** One key's points after {@code afterSeq}, in seq order. */
    public List<Point> history(String runId, String key, long afterSeq, int limit) {
        return read(c -> {
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT s.key, m.seq, m.segment, m.step, m.wall_ms, m.value FROM series s JOIN metrics m ON m.series_id = s.id "
                            + "WHERE s.run_id = ? AND s.key = ? AND m.seq > ? ORDER BY m.seq LIMIT ?")) {
                p.setString(1, runId);
                p.setString(2, key);
                p.setLong(3, afterSeq);
                p.setInt(4, limit);
                return points(p);
            }
        });
    }

    /** Streams one key's points after {@code afterSeq} in seq order, without building objects per point. */
    public void scan(String runId, String key, long afterSeq, PointSink sink) {
        read(c -> {
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT m.seq, m.segment, m.step, m.wall_ms, m.value FROM series s JOIN metrics m ON m.series_id = s.id "
                            + "WHERE s.run_id = ? AND s.key = ? AND m.seq > ? ORDER BY m.seq")) {
                p.setString(1, runId);
                p.setString(2, key);
                p.setLong(3, afterSeq);
                p.setFetchSize(10_000);
                try (ResultSet r = p.executeQuery()) {
                    while (r.next()) {
                        double value = r.getDouble(5);
                        if (r.wasNull()) value = Double.NaN;
                        sink.accept(r.getLong(1), r.getInt(2), r.getLong(3), r.getLong(4), value);
                    }
                }
            }
            return null;
        });
    }

    /** Receives scanned points. */
    @FunctionalInterface
    public interface PointSink {
        void accept(long seq, int segment, long step, long wallMs, double value);
    }

    /** Each key's latest point. */
    public List<Point> latestPoints(String runId) {
        return read(c -> {
            try (PreparedStatement p = c.prepareStatement("""
                    SELECT s.key, m.seq, m.segment, m.step, m.wall_ms, m.value FROM series s
                    JOIN metrics m ON m.series_id = s.id AND m.seq = s.last_seq
                    WHERE s.run_id = ? ORDER BY s.key""")) {
                p.setString(1, runId);
                return points(p);
            }
        });
    }

    /** Every point of one key, all segments, in the order logged. */
    public List<Point> fullHistory(String runId, String key) {
        return history(runId, key, 0, Integer.MAX_VALUE);
    }

    public List<String> keys(String runId) {
        return read(c -> {
            List<String> keys = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT key FROM series WHERE run_id = ? ORDER BY key")) {
                p.setString(1, runId);
                try (ResultSet r = p.executeQuery()) {
                    while (r.next()) keys.add(r.getString(1));
                }
            }
            return keys;
        });
    }

    /** Each key's largest step in the run's latest segment, and that segment (to resume a run). */
    public ResumePoint resumePoint(String runId) {
        return read(c -> {
            long lastSeq = 0;
            try (PreparedStatement p = c.prepareStatement("SELECT last_seq FROM runs WHERE id = ?")) {
                p.setString(1, runId);
                try (ResultSet r = p.executeQuery()) {
                    if (!r.next()) throw new NoSuchRunException(runId);
                    lastSeq = r.getLong(1);
                }
            }
            int segment = 0;
            Map<String, Long> maxStep = new TreeMap<>();
            try (PreparedStatement p = c.prepareStatement("SELECT key, last_segment, last_step FROM series WHERE run_id = ?")) {
                p.setString(1, runId);
                try (ResultSet r = p.executeQuery()) {
                    while (r.next()) segment = Math.max(segment, r.getInt(2));
                }
                try (ResultSet r = p.executeQuery()) {
                    while (r.next()) if (r.getInt(2) == segment) maxStep.put(r.getString(1), r.getLong(3));
                }
            }
            return new ResumePoint(lastSeq, segment, maxStep);
        });
    }

    /** Where a resumed run continues: its last seq, its current segment, each key's last step in it. */
    public record ResumePoint(long lastSeq, int segment, Map<String, Long> maxStepByKey) {
    }

    public long countPoints(String runId) {
        return read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM series s JOIN metrics m ON m.series_id = s.id WHERE s.run_id = ?")) {
                p.setString(1, runId);
                try (ResultSet r = p.executeQuery()) {
                    r.next();
                    return r.getLong(1);
                }
            }
        });
    }

    /**
     * For live updates: each run that is running or changed since {@code sinceMs}, with a version that moves
     * whenever its points or metadata do.
     */
    public Map<String, String> activeRuns(long sinceMs) {
        return read(c -> {
            Map<String, String> out = new LinkedHashMap<>();
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT id, last_seq, status, updated_ms FROM runs WHERE status = ? OR updated_ms >= ?")) {
                p.setString(1, RunStatus.RUNNING.wire());
                p.setLong(2, sinceMs);
                try (ResultSet r = p.executeQuery()) {
                    while (r.next()) out.put(r.getString(1), r.getLong(2) + "/" + r.getString(3) + "/" + r.getLong(4));
                }
            }
            return out;
        });
    }

    // ---- plumbing --------------------------------------------------------------------------------

    private static final String RUN_COLUMNS =
            "id, project, name, colour, status, started_ms, ended_ms, heartbeat_ms, host, git_commit, command, notes, last_seq";

    private static RunInfo runRow(ResultSet r) throws SQLException {
        long ended = r.getLong(7);
        Long endedMs = r.wasNull() ? null : ended;
        RunStatus status = RunStatus.parse(r.getString(5));
        long heartbeat = r.getLong(8);
        if (status == RunStatus.RUNNING && heartbeat < System.currentTimeMillis() - CRASH_AFTER.toMillis()) {
            status = RunStatus.CRASHED;
        }
        return new RunInfo(r.getString(1), r.getString(2), r.getString(3), r.getString(4), status, r.getLong(6),
                endedMs, heartbeat, r.getString(9), r.getString(10), r.getString(11), r.getString(12),
                List.of(), Map.of(), r.getLong(13), Map.of());
    }

    private static RunInfo details(Connection c, RunInfo run) throws SQLException {
        Map<String, String> config = new TreeMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT key, value FROM run_config WHERE run_id = ?")) {
            p.setString(1, run.id());
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) config.put(r.getString(1), r.getString(2));
            }
        }
        List<String> tags = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT tag FROM run_tags WHERE run_id = ? ORDER BY tag")) {
            p.setString(1, run.id());
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) tags.add(r.getString(1));
            }
        }
        Map<String, Double> last = new TreeMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT key, last_value FROM series WHERE run_id = ?")) {
            p.setString(1, run.id());
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    double v = r.getDouble(2);
                    last.put(r.getString(1), r.wasNull() ? Double.NaN : v);
                }
            }
        }
        return new RunInfo(run.id(), run.project(), run.name(), run.colour(), run.status(), run.startedMs(),
                run.endedMs(), run.heartbeatMs(), run.host(), run.gitCommit(), run.command(), run.notes(),
                tags, config, run.lastSeq(), last);
    }

    private static List<Point> points(PreparedStatement p) throws SQLException {
        List<Point> out = new ArrayList<>();
        try (ResultSet r = p.executeQuery()) {
            while (r.next()) {
                double value = r.getDouble(6);
                if (r.wasNull()) value = Double.NaN;
                out.add(new Point(r.getLong(2), r.getString(1), r.getInt(3), r.getLong(4), r.getLong(5), value));
            }
        }
        return out;
    }

    /** NaN is stored as NULL: SQLite would turn it into NULL anyway, and this keeps PostgreSQL the same. */
    private static void setValue(PreparedStatement p, int index, double value) throws SQLException {
        if (Double.isNaN(value)) p.setNull(index, Types.DOUBLE);
        else p.setDouble(index, value);
    }

    private static void setNullableLong(PreparedStatement p, int index, Long value) throws SQLException {
        if (value == null) p.setNull(index, Types.BIGINT);
        else p.setLong(index, value);
    }

    @FunctionalInterface
    private interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private <T> T write(Work<T> work) {
        writeLock.lock();
        try {
            try {
                T result = work.run(writer);
                writer.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(e);
                if (e instanceof RuntimeException runtime) throw runtime;
                throw new StoreException("write to the track store " + database.describe() + " failed: " + e.getMessage(), e);
            }
        } finally {
            writeLock.unlock();
        }
    }

    private void rollbackQuietly(Exception cause) {
        try {
            writer.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }

    private <T> T read(Work<T> work) {
        Connection connection;
        try {
            connection = readers.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while waiting for a connection to " + database.describe(), e);
        }
        try {
            return work.run(connection);
        } catch (SQLException e) {
            throw new StoreException("read from the track store " + database.describe() + " failed: " + e.getMessage(), e);
        } finally {
            readers.add(connection);
        }
    }

    @Override
    public void close() {
        writeLock.lock();
        try {
            closeQuietly(writer);
            for (Connection c : readers) closeQuietly(c);
        } finally {
            writeLock.unlock();
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // closing is best effort: the data is already committed
        }
    }
}
