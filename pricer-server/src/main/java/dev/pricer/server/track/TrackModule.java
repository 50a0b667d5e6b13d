package dev.pricer.server.track;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.pricer.server.Access;
import dev.pricer.server.PricerServer;
import dev.pricer.server.ServerModule;
import dev.pricer.track.model.Names;
import dev.pricer.track.model.Point;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunQuery;
import dev.pricer.track.model.RunStatus;
import dev.pricer.track.model.Series;
import dev.pricer.track.query.SeriesCache;
import dev.pricer.track.remote.TrackClient;
import dev.pricer.track.store.NoSuchRunException;
import dev.pricer.track.store.TrackStore;
import io.javalin.config.JavalinConfig;
import io.javalin.http.ConflictResponse;
import io.javalin.http.Context;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Tracking on the server: the JSON API under {@code /api/track/} (described by
 * {@code /api/track/openapi.json}), the MLflow subset under {@code /api/2.0/mlflow/}, live updates over
 * server-sent events, and the dashboard pages.
 */
public final class TrackModule implements ServerModule {

    static final int MAX_BUCKETS = 10_000;
    static final int MAX_POINTS = 10_000;

    /** What a point must carry; a missing one would otherwise read as 0 (its segment may be left out: 0). */
    private static final List<String> POINT_FIELDS = List.of("seq", "key", "step", "wallMs", "value");
    /** Steps, seqs and times are whole numbers: 1.5 is refused rather than cut to 1. */
    private static final ObjectReader POINTS = TrackClient.JSON.readerFor(PointsBody.class)
            .without(DeserializationFeature.ACCEPT_FLOAT_AS_INT);

    private final TrackStore store;
    private final Access access;
    private final SeriesCache cache;
    private final LiveUpdates live;

    /** Writes (runs, points, MLflow calls) need a caller {@code access} knows. */
    public TrackModule(TrackStore store, Access access) {
        this.store = store;
        this.access = access;
        this.cache = new SeriesCache(store, 50_000_000);
        this.live = new LiveUpdates(store);
    }

    @Override
    public List<NavLink> navigation() {
        return List.of(new NavLink("Projects", "/projects"));
    }

    @Override
    public void configure(JavalinConfig config) {
        var routes = config.routes;
        routes.exception(NoSuchRunException.class, (e, ctx) -> PricerServer.error(ctx, 404, e.getMessage()));
        routes.exception(JacksonException.class, (e, ctx) -> PricerServer.error(ctx, 400, "malformed JSON: " + e.getOriginalMessage()));
        access.guardWrites(config, "/api/track/*", MlflowApi.BASE + "*");

        routes.get("/", ctx -> ctx.redirect("/projects"));
        routes.get("/projects", ctx -> ctx.html(page("projects.html")));
        routes.get("/projects/{project}", ctx -> ctx.html(page("project.html")));
        routes.get("/runs/{id}", ctx -> ctx.html(page("run.html")));
        routes.get("/api/track/openapi.json", ctx -> ctx.contentType("application/json").result(resource("openapi.json")));

        routes.get("/api/track/projects", ctx -> ctx.json(store.projects()));
        routes.get("/api/track/projects/{project}/runs", this::listRuns);
        routes.put("/api/track/runs/{id}", this::putRun);
        routes.get("/api/track/runs/{id}", ctx -> json(ctx, store.requireRun(ctx.pathParam("id"))));
        routes.patch("/api/track/runs/{id}", this::patchRun);
        routes.delete("/api/track/runs/{id}", this::deleteRun);
        routes.post("/api/track/runs/{id}/points", this::appendPoints);
        routes.get("/api/track/runs/{id}/points", this::pointsAfter);
        routes.get("/api/track/runs/{id}/keys", ctx -> ctx.json(keysOf(ctx.pathParam("id"))));
        routes.get("/api/track/metrics.csv", this::csv);
        routes.get("/api/track/series", this::series);
        routes.sse("/api/track/events", live::subscribe);
        config.events.serverStopping(live::stop);
        new MlflowApi(store).configure(routes);
    }

    private List<String> keysOf(String runId) {
        store.requireRun(runId);
        return store.keys(runId);
    }

    private void listRuns(Context ctx) throws IOException {
        RunQuery query = RunQuery.project(ctx.pathParam("project"));
        String status = ctx.queryParam("status");
        if (status != null && !status.isBlank()) query = query.withStatus(RunStatus.parse(status));
        String tag = ctx.queryParam("tag");
        if (tag != null && !tag.isBlank()) query = query.withTag(tag);
        String config = ctx.queryParam("config");
        if (config != null && !config.isBlank()) {
            int eq = config.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("config filter must be KEY=VALUE, not '" + config + "'");
            query = query.withConfig(config.substring(0, eq), config.substring(eq + 1));
        }
        String sort = ctx.queryParam("sort");
        if (sort != null && !sort.isBlank()) query = query.sortedBy(sort, !"asc".equalsIgnoreCase(ctx.queryParam("order")));
        json(ctx, store.runs(query));
    }

    private void putRun(Context ctx) throws IOException {
        RunInfo run = TrackClient.JSON.readValue(ctx.bodyAsBytes(), RunInfo.class);
        String id = ctx.pathParam("id");
        if (!id.equals(run.id())) throw new IllegalArgumentException("the body's id '" + run.id() + "' is not the path's '" + id + "'");
        // The store holds the id, project and name to Names' limits, wherever a run comes from.
        if (run.status() == null) throw new IllegalArgumentException("field 'status' is required");
        store.upsertRun(run);
        // A client that sends no heartbeat has just shown it is alive; otherwise its run would read as crashed at once.
        if (run.status() == RunStatus.RUNNING && run.heartbeatMs() == 0) store.heartbeat(List.of(id), System.currentTimeMillis());
        live.poke();
        json(ctx, store.requireRun(id));
    }

    /** Deletes a run that is not running, with its config, tags and metrics; 409 while it runs. */
    private void deleteRun(Context ctx) throws IOException {
        String id = ctx.pathParam("id");
        try {
            store.deleteRun(id);
        } catch (IllegalStateException running) {
            throw new ConflictResponse(running.getMessage());
        }
        live.poke();
        json(ctx, Map.of("deleted", id));
    }

    private void patchRun(Context ctx) throws IOException {
        String id = ctx.pathParam("id");
        store.requireRun(id);
        JsonNode body = TrackClient.JSON.readTree(ctx.bodyAsBytes());
        if (body == null || !body.isObject()) throw new IllegalArgumentException("the body must be a JSON object");
        if (body.has("name")) store.rename(id, body.get("name").asText());
        if (body.has("notes")) store.setNotes(id, body.get("notes").isNull() ? null : body.get("notes").asText());
        if (body.has("tags")) {
            List<String> tags = new ArrayList<>();
            for (JsonNode tag : body.get("tags")) tags.add(tag.asText());
            store.setTags(id, tags);
        }
        live.poke();
        json(ctx, store.requireRun(id));
    }

    private record PointsBody(List<Point> points) {
    }

    private void appendPoints(Context ctx) throws IOException {
        String id = ctx.pathParam("id");
        JsonNode tree = TrackClient.JSON.readTree(ctx.bodyAsBytes());
        JsonNode points = tree == null ? null : tree.get("points");
        if (points == null || !points.isArray()) throw new IllegalArgumentException("field 'points' is required (an array of points)");
        for (int i = 0; i < points.size(); i++) {
            JsonNode point = points.get(i);
            if (!point.isObject()) throw new IllegalArgumentException("point " + (i + 1) + " is not an object");
            for (String field : POINT_FIELDS) {
                if (!point.hasNonNull(field)) {
                    throw new IllegalArgumentException("point " + (i + 1) + " ('" + point.path("key").asText() + "') has no '" + field + "'");
                }
            }
        }
        PointsBody body = POINTS.readValue(tree);
        for (Point p : body.points()) {
            requireText("key", p.key(), Names.NAME);
            if (p.seq() < 1) throw new IllegalArgumentException("point '" + p.key() + "' has seq " + p.seq() + " (must be at least 1)");
            if (p.segment() < 0) throw new IllegalArgumentException("point '" + p.key() + "' has a negative segment");
        }
        store.append(Map.of(id, body.points()));
        live.poke();
        ctx.json(Map.of("accepted", body.points().size()));
    }

    /**
     * {@code ?after=SEQ&limit=N}: the run's points after seq {@code after}, in seq order, as uploads send them, so that
     * another machine can copy the run's history before it continues the run.
     */
    private void pointsAfter(Context ctx) throws IOException {
        Long after = longParam(ctx, "after");
        int limit = intParam(ctx, "limit", MAX_POINTS);
        if (after != null && after < 0) throw new IllegalArgumentException("after must be 0 or more, not " + after);
        if (limit < 1 || limit > MAX_POINTS) throw new IllegalArgumentException("limit must be 1 to " + MAX_POINTS + ", not " + limit);
        json(ctx, Map.of("points", store.pointsAfter(ctx.pathParam("id"), after == null ? 0 : after, limit)));
    }

    /** {@code ?run=A&run=B&key=K&buckets=N&from=STEP&to=STEP}: one entry per run and segment. */
    private void series(Context ctx) {
        List<String> runs = ctx.queryParams("run");
        String key = ctx.queryParam("key");
        if (runs.isEmpty()) throw new IllegalArgumentException("query parameter 'run' is required (repeat it for several runs)");
        if (key == null || key.isEmpty()) throw new IllegalArgumentException("query parameter 'key' is required");
        int buckets = intParam(ctx, "buckets", 1000);
        if (buckets < 1 || buckets > MAX_BUCKETS) throw new IllegalArgumentException("buckets must be 1 to " + MAX_BUCKETS + ", not " + buckets);
        Long from = longParam(ctx, "from");
        Long to = longParam(ctx, "to");
        List<Map<String, Object>> out = new ArrayList<>();
        for (String runId : runs) {
            store.requireRun(runId);
            for (Series s : cache.query(runId, key, from, to, buckets)) out.add(seriesJson(s));
        }
        ctx.json(out);
    }

    /** Non-finite values become JSON null, which the charts draw as gaps. */
    static Map<String, Object> seriesJson(Series s) {
        return Map.of("runId", s.runId(), "key", s.key(), "segment", s.segment(), "step", s.step(), "wallMs", s.wallMs(),
                "min", finite(s.min()), "max", finite(s.max()), "last", finite(s.last()),
                "totalPoints", s.totalPoints(), "downsampled", s.downsampled());
    }

    private static List<Double> finite(double[] values) {
        List<Double> out = new ArrayList<>(values.length);
        for (double v : values) out.add(Double.isFinite(v) ? v : null);
        return out;
    }

    /** {@code ?run=A&run=B[&key=K]}: every point of those runs (of one key), oldest first per run. */
    private void csv(Context ctx) throws IOException {
        List<String> runIds = ctx.queryParams("run");
        if (runIds.isEmpty()) throw new IllegalArgumentException("query parameter 'run' is required (repeat it for several runs)");
        List<RunInfo> runs = runIds.stream().map(store::requireRun).toList();
        String key = ctx.queryParam("key");
        ctx.contentType("text/csv; charset=utf-8");
        String file = (key == null ? "metrics" : key.replaceAll("[^A-Za-z0-9._-]", "_")) + ".csv";
        ctx.header("Content-Disposition", "attachment; filename=\"" + file + "\"");
        Writer out = new OutputStreamWriter(ctx.outputStream(), StandardCharsets.UTF_8);
        out.write("run_id,run,key,segment,step,wall_ms,value\n");
        for (RunInfo run : runs) {
            long after = 0;
            while (true) {
                List<Point> points = key == null ? store.pointsAfter(run.id(), after, 10_000) : store.history(run.id(), key, after, 10_000);
                if (points.isEmpty()) break;
                for (Point p : points) {
                    out.write(run.id() + "," + csvField(run.name()) + "," + csvField(p.key()) + "," + p.segment() + ","
                            + p.step() + "," + p.wallMs() + "," + p.value() + "\n");
                }
                after = points.getLast().seq();
            }
        }
        out.flush();
    }

    static String csvField(String text) {
        if (text.indexOf(',') < 0 && text.indexOf('"') < 0 && text.indexOf('\n') < 0 && text.indexOf('\r') < 0) return text;
        return '"' + text.replace("\"", "\"\"") + '"';
    }

    /** Lists and records go through the tracking JSON mapper, so NaN last values are "NaN", not an error. */
    private static void json(Context ctx, Object value) throws IOException {
        ctx.contentType("application/json").result(TrackClient.JSON.writeValueAsBytes(value));
    }

    private static void requireText(String field, String value, int max) {
        Names.require("field '" + field + "'", value, max);
    }

    private static int intParam(Context ctx, String name, int fallback) {
        String text = ctx.queryParam(name);
        if (text == null || text.isBlank()) return fallback;
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("query parameter '" + name + "' is not an integer: '" + text + "'");
        }
    }

    private static Long longParam(Context ctx, String name) {
        String text = ctx.queryParam(name);
        if (text == null || text.isBlank()) return null;
        try {
            return (long) Math.floor(Double.parseDouble(text));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("query parameter '" + name + "' is not a number: '" + text + "'");
        }
    }

    private static String page(String name) {
        return new String(resource(name), StandardCharsets.UTF_8);
    }

    private static byte[] resource(String name) {
        try (InputStream in = TrackModule.class.getResourceAsStream("/web/track/" + name)) {
            if (in == null) throw new IllegalStateException("missing page resource web/track/" + name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
