package dev.pricer.server.track;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pricer.track.model.Point;
import dev.pricer.track.model.ProjectInfo;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunQuery;
import dev.pricer.track.model.RunStatus;
import dev.pricer.track.remote.TrackClient;
import dev.pricer.track.store.NoSuchRunException;
import dev.pricer.track.store.TrackStore;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The part of MLflow's REST API (2.0) that its clients need to create and log runs, mapped onto projects
 * (experiments; the id is the name) and runs. Field names follow MLflow's protobuf JSON; int64 values are
 * accepted as numbers or strings. MLflow params become config entries, MLflow tags become {@code key=value}
 * tags; {@code mlflow.runName} renames the run and {@code mlflow.note.content} sets its notes.
 */
final class MlflowApi {

    static final String BASE = "/api/2.0/mlflow/";
    private static final String RUN_NAME_TAG = "mlflow.runName";
    private static final String NOTE_TAG = "mlflow.note.content";

    private final TrackStore store;

    MlflowApi(TrackStore store) {
        this.store = store;
    }

    /** An MLflow error: {@code {"error_code": ..., "message": ...}} with an HTTP status. */
    static final class MlflowError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;
        final String code;

        MlflowError(int status, String code, String message) {
            super(message);
            this.status = status;
            this.code = code;
        }
    }

    void configure(RoutesConfig routes) {
        routes.exception(MlflowError.class, (e, ctx) -> ctx.status(e.status).json(Map.of("error_code", e.code, "message", e.getMessage())));
        routes.post(BASE + "experiments/create", this::createExperiment);
        routes.get(BASE + "experiments/get-by-name", ctx -> ctx.json(Map.of("experiment",
                experiment(requireProject(requiredParam(ctx, "experiment_name"))))));
        routes.get(BASE + "experiments/get", ctx -> ctx.json(Map.of("experiment",
                experiment(requireProject(requiredParam(ctx, "experiment_id"))))));
        routes.post(BASE + "experiments/search", this::searchExperiments);
        routes.get(BASE + "experiments/search", this::searchExperiments);
        routes.post(BASE + "runs/create", this::createRun);
        routes.post(BASE + "runs/update", this::updateRun);
        routes.post(BASE + "runs/delete", this::deleteRun);
        routes.post(BASE + "runs/restore", this::restoreRun);
        routes.get(BASE + "runs/get", ctx -> reply(ctx, Map.of("run", run(requireRun(requiredParam(ctx, "run_id", "run_uuid"))))));
        routes.post(BASE + "runs/search", this::searchRuns);
        routes.post(BASE + "runs/log-batch", this::logBatch);
        routes.post(BASE + "runs/log-metric", this::logMetric);
        routes.post(BASE + "runs/log-parameter", this::logParameter);
        routes.post(BASE + "runs/set-tag", this::setTag);
        routes.get(BASE + "metrics/get-history", this::history);
    }

    private void createExperiment(Context ctx) throws IOException {
        JsonNode body = body(ctx);
        String name = requiredText(body, "name");
        if (project(name).isPresent()) throw new MlflowError(400, "RESOURCE_ALREADY_EXISTS", "experiment '" + name + "' already exists");
        store.createProject(name, System.currentTimeMillis());
        ctx.json(Map.of("experiment_id", name));
    }

    private void searchExperiments(Context ctx) {
        List<Map<String, Object>> experiments = new ArrayList<>();
        for (ProjectInfo p : store.projects()) experiments.add(experiment(p));
        ctx.json(Map.of("experiments", experiments));
    }

    private void createRun(Context ctx) throws IOException {
        JsonNode body = body(ctx);
        String project = body.path("experiment_id").asText("0");
        if (project(project).isEmpty()) throw new MlflowError(404, "RESOURCE_DOES_NOT_EXIST", "no experiment with id '" + project + "'");
        long start = int64(body, "start_time", System.currentTimeMillis(), "the run");
        String name = body.path("run_name").asText("");
        List<String> tags = new ArrayList<>();
        String notes = null;
        for (JsonNode tag : body.path("tags")) {
            String key = tag.path("key").asText();
            String value = tag.path("value").asText();
            if (key.equals(RUN_NAME_TAG) && name.isEmpty()) name = value;
            else if (key.equals(NOTE_TAG)) notes = value;
            else if (!key.equals(RUN_NAME_TAG)) tags.add(key + "=" + value);
        }
        if (name.isEmpty()) name = "mlflow-" + start;
        String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        String user = body.path("user_id").asText("");
        store.upsertRun(new RunInfo(id, project, name, null, RunStatus.RUNNING, start, null, System.currentTimeMillis(),
                null, null, user.isEmpty() ? "mlflow" : "mlflow (" + user + ")", notes, tags, Map.of(), 0, Map.of()));
        reply(ctx, Map.of("run", run(requireRun(id))));
    }

    private void updateRun(Context ctx) throws IOException {
        JsonNode body = body(ctx);
        RunInfo run = requireRun(runId(body));
        if (body.hasNonNull("run_name") && !body.get("run_name").asText().isEmpty()) store.rename(run.id(), body.get("run_name").asText());
        if (body.hasNonNull("status")) {
            RunStatus status = status(body.get("status").asText());
            long end = int64(body, "end_time", System.currentTimeMillis(), "run " + run.id());
            store.end(run.id(), status, end);
            if (status == RunStatus.RUNNING) store.heartbeat(List.of(run.id()), System.currentTimeMillis());
        }
        reply(ctx, Map.of("run_info", info(requireRun(run.id()))));
    }

    /**
     * MLflow's delete_run. MLflow keeps a deleted run to restore; here it goes for good, as the dashboard's Delete does
     * ({@link TrackStore#deleteRun}), and a run still running is refused until it is ended.
     */
    private void deleteRun(Context ctx) throws IOException {
        RunInfo run = requireRun(runId(body(ctx)));
        try {
            store.deleteRun(run.id());
        } catch (IllegalStateException running) {
            throw new MlflowError(400, "INVALID_STATE", running.getMessage() + " (runs/update with status FINISHED ends it)");
        }
        ctx.json(Map.of());
    }

    private void restoreRun(Context ctx) throws IOException {
        String id = runId(body(ctx));
        requireRun(id);
        throw new MlflowError(400, "INVALID_STATE", "run " + id + " is not deleted: runs deleted on this server are gone for good, so none can be restored");
    }

    private void searchRuns(Context ctx) throws IOException {
        JsonNode body = body(ctx);
        Filter filter = Filter.parse(body.path("filter").asText(""));
        List<Map<String, Object>> runs = new ArrayList<>();
        for (JsonNode experiment : body.path("experiment_ids")) {
            RunQuery query = RunQuery.project(experiment.asText());
            if (filter.status != null) query = query.withStatus(filter.status);
            if (filter.tag != null) query = query.withTag(filter.tag);
            if (filter.paramKey != null) query = query.withConfig(filter.paramKey, filter.paramValue);
            for (RunInfo run : store.runs(query)) runs.add(run(run));
        }
        long max = int64(body, "max_results", 1000, "the search");
        if (max < 0) throw new MlflowError(400, "INVALID_PARAMETER_VALUE", "the search has max_results " + max + ", below 0");
        reply(ctx, Map.of("runs", runs.size() > max ? runs.subList(0, (int) max) : runs));
    }

    private void logBatch(Context ctx) throws IOException {
        JsonNode body = body(ctx);
        RunInfo run = requireRun(runId(body));
        List<TrackStore.Logged> values = new ArrayList<>();
        for (JsonNode metric : body.path("metrics")) values.add(logged(metric));
        Map<String, String> params = new LinkedHashMap<>();
        for (JsonNode param : body.path("params")) params.put(requiredText(param, "key"), param.path("value").asText());
        if (!values.isEmpty()) store.appendNumbered(run.id(), values);
        if (!params.isEmpty()) store.putConfig(run.id(), params);
        for (JsonNode tag : body.path("tags")) tag(run, requiredText(tag, "key"), tag.path("value").asText());
        ctx.json(Map.of());
    }

    private void logMetric(Context ctx) throws IOException {
        JsonNode body = body(ctx);
        RunInfo run = requireRun(runId(body));
        store.appendNumbered(run.id(), List.of(logged(body)));
        ctx.json(Map.of());
    }

    private void logParameter(Context ctx) throws IOException {
        JsonNode body = body(ctx);
        RunInfo run = requireRun(runId(body));
        store.putConfig(run.id(), Map.of(requiredText(body, "key"), body.path("value").asText()));
        ctx.json(Map.of());
    }

    private void setTag(Context ctx) throws IOException {
        JsonNode body = body(ctx);
        tag(requireRun(runId(body)), requiredText(body, "key"), body.path("value").asText());
        ctx.json(Map.of());
    }

    private void tag(RunInfo run, String key, String value) {
        switch (key) {
            case RUN_NAME_TAG -> store.rename(run.id(), value);
            case NOTE_TAG -> store.setNotes(run.id(), value);
            default -> {
                List<String> tags = new ArrayList<>(store.requireRun(run.id()).tags());
                tags.removeIf(t -> t.equals(key) || t.startsWith(key + "="));
                tags.add(key + "=" + value);
                store.setTags(run.id(), tags);
            }
        }
    }

    private void history(Context ctx) {
        RunInfo run = requireRun(requiredParam(ctx, "run_id", "run_uuid"));
        String key = requiredParam(ctx, "metric_key");
        List<Map<String, Object>> metrics = new ArrayList<>();
        for (Point p : store.fullHistory(run.id(), key)) metrics.add(metric(p));
        reply(ctx, Map.of("metrics", metrics));
    }

    // ---- mapping ---------------------------------------------------------------------------------

    private static TrackStore.Logged logged(JsonNode metric) {
        String key = requiredText(metric, "key");
        JsonNode value = metric.get("value");
        if (value == null || value.isNull()) throw new MlflowError(400, "INVALID_PARAMETER_VALUE", "metric '" + key + "' has no value");
        double v = value.isNumber() ? value.asDouble() : parseDouble(key, value.asText());
        String of = "metric '" + key + "'";
        return new TrackStore.Logged(key, int64(metric, "step", 0, of), int64(metric, "timestamp", System.currentTimeMillis(), of), v);
    }

    /**
     * A whole-number field (MLflow's int64, which its JSON carries as a string or a number), or {@code unset} when
     * missing; anything else is refused, naming the field and what it belongs to.
     */
    private static long int64(JsonNode parent, String field, long unset, String of) {
        JsonNode node = parent.get(field);
        if (node == null || node.isNull()) return unset;
        if (node.isIntegralNumber() && node.canConvertToLong()) return node.asLong();
        if (node.isTextual()) {
            try {
                return Long.parseLong(node.asText());
            } catch (NumberFormatException e) {
                // refused below, as any other value
            }
        }
        throw new MlflowError(400, "INVALID_PARAMETER_VALUE", of + " has " + field + " " + node + ", not a whole number");
    }

    private static double parseDouble(String key, String text) {
        try {
            return Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new MlflowError(400, "INVALID_PARAMETER_VALUE", "metric '" + key + "' has value '" + text + "', not a number");
        }
    }

    private Map<String, Object> experiment(ProjectInfo p) {
        return Map.of("experiment_id", p.name(), "name", p.name(), "artifact_location", "", "lifecycle_stage", "active",
                "creation_time", p.createdMs(), "last_update_time", p.lastStartedMs() == null ? p.createdMs() : p.lastStartedMs());
    }

    private Map<String, Object> run(RunInfo run) {
        List<Map<String, Object>> metrics = new ArrayList<>();
        for (Point p : store.latestPoints(run.id())) metrics.add(metric(p));
        List<Map<String, Object>> params = new ArrayList<>();
        run.config().forEach((k, v) -> params.add(Map.of("key", k, "value", v)));
        List<Map<String, Object>> tags = new ArrayList<>();
        tags.add(Map.of("key", RUN_NAME_TAG, "value", run.name()));
        if (run.notes() != null) tags.add(Map.of("key", NOTE_TAG, "value", run.notes()));
        for (String tag : run.tags()) {
            int eq = tag.indexOf('=');
            tags.add(eq < 0 ? Map.of("key", tag, "value", "") : Map.of("key", tag.substring(0, eq), "value", tag.substring(eq + 1)));
        }
        return Map.of("info", info(run), "data", Map.of("metrics", metrics, "params", params, "tags", tags));
    }

    private static Map<String, Object> info(RunInfo run) {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("run_id", run.id());
        info.put("run_uuid", run.id());
        info.put("run_name", run.name());
        info.put("experiment_id", run.project());
        info.put("user_id", "");
        info.put("status", switch (run.status()) {
            case RUNNING -> "RUNNING";
            case FINISHED -> "FINISHED";
            case FAILED -> "FAILED";
            case CRASHED -> "KILLED";
        });
        info.put("start_time", run.startedMs());
        if (run.endedMs() != null) info.put("end_time", run.endedMs());
        info.put("artifact_uri", "");
        info.put("lifecycle_stage", "active");
        return info;
    }

    private static Map<String, Object> metric(Point p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", p.key());
        m.put("value", Double.isFinite(p.value()) ? (Object) p.value() : Double.toString(p.value()));
        m.put("timestamp", p.wallMs());
        m.put("step", p.step());
        return m;
    }

    private static RunStatus status(String mlflow) {
        return switch (mlflow) {
            case "RUNNING", "SCHEDULED" -> RunStatus.RUNNING;
            case "FINISHED" -> RunStatus.FINISHED;
            case "FAILED" -> RunStatus.FAILED;
            case "KILLED" -> RunStatus.CRASHED;
            default -> throw new MlflowError(400, "INVALID_PARAMETER_VALUE", "unknown run status '" + mlflow + "'");
        };
    }

    /** The filters MLflow clients send most: {@code attributes.status}, {@code tags.K} and {@code params.K} equalities, joined by AND. */
    private record Filter(RunStatus status, String tag, String paramKey, String paramValue) {
        static Filter parse(String text) {
            RunStatus status = null;
            String tag = null, paramKey = null, paramValue = null;
            if (!text.isBlank()) {
                for (String clause : text.split("(?i)\\s+and\\s+")) {
                    var m = java.util.regex.Pattern.compile("\\s*(attributes\\.status|tags\\.[\\w.\\-/]+|params\\.[\\w.\\-/]+)\\s*=\\s*'([^']*)'\\s*").matcher(clause);
                    if (!m.matches()) throw new MlflowError(400, "INVALID_PARAMETER_VALUE", "unsupported filter clause '" + clause.strip()
                            + "' (supported: attributes.status = '...', tags.KEY = '...', params.KEY = '...')");
                    String field = m.group(1);
                    if (field.equals("attributes.status")) status = MlflowApi.status(m.group(2));
                    else if (field.startsWith("tags.")) tag = field.substring(5) + "=" + m.group(2);
                    else {
                        paramKey = field.substring(7);
                        paramValue = m.group(2);
                    }
                }
            }
            return new Filter(status, tag, paramKey, paramValue);
        }
    }

    // ---- plumbing --------------------------------------------------------------------------------

    private Optional<ProjectInfo> project(String name) {
        return store.projects().stream().filter(p -> p.name().equals(name)).findFirst();
    }

    private ProjectInfo requireProject(String name) {
        return project(name).orElseThrow(() -> new MlflowError(404, "RESOURCE_DOES_NOT_EXIST", "no experiment named '" + name + "'"));
    }

    private RunInfo requireRun(String id) {
        try {
            return store.requireRun(id);
        } catch (NoSuchRunException e) {
            throw new MlflowError(404, "RESOURCE_DOES_NOT_EXIST", "no run with id '" + id + "'");
        }
    }

    private static String runId(JsonNode body) {
        String id = body.path("run_id").asText("");
        if (id.isEmpty()) id = body.path("run_uuid").asText("");
        if (id.isEmpty()) throw new MlflowError(400, "INVALID_PARAMETER_VALUE", "field 'run_id' is required");
        return id;
    }

    private static JsonNode body(Context ctx) throws IOException {
        byte[] bytes = ctx.bodyAsBytes();
        JsonNode body = bytes.length == 0 ? TrackClient.JSON.createObjectNode() : TrackClient.JSON.readTree(bytes);
        if (!body.isObject()) throw new MlflowError(400, "INVALID_PARAMETER_VALUE", "the body must be a JSON object");
        return body;
    }

    private static String requiredText(JsonNode node, String field) {
        String text = node.path(field).asText("");
        if (text.isEmpty()) throw new MlflowError(400, "INVALID_PARAMETER_VALUE", "field '" + field + "' is required");
        return text;
    }

    private static String requiredParam(Context ctx, String... names) {
        for (String name : names) {
            String value = ctx.queryParam(name);
            if (value != null && !value.isEmpty()) return value;
        }
        throw new MlflowError(400, "INVALID_PARAMETER_VALUE", "query parameter '" + names[0] + "' is required");
    }

    private static void reply(Context ctx, Object value) {
        try {
            ctx.contentType("application/json").result(TrackClient.JSON.writeValueAsBytes(value));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
