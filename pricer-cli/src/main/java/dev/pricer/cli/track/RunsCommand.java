package dev.pricer.cli.track;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pricer.cli.progress.ProgressBar;
import dev.pricer.hub.CheckpointOrigin;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.HubException;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.Ref;
import dev.pricer.hub.RepoId;
import dev.pricer.track.TrackerOptions;
import dev.pricer.track.model.Point;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunQuery;
import dev.pricer.track.model.RunStatus;
import dev.pricer.track.remote.TrackClient;
import dev.pricer.track.remote.Uploader;
import dev.pricer.track.store.TrackStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code pricer runs ...}: the runs of the local store. */
@Command(name = "runs", mixinStandardHelpOptions = true, description = "List, show, rename, tag, delete and sync tracked runs.",
        subcommands = {RunsCommand.ListRuns.class, RunsCommand.Show.class, RunsCommand.Rename.class, RunsCommand.Tags.class,
                RunsCommand.History.class, RunsCommand.Delete.class, RunsCommand.Sync.class})
public final class RunsCommand {

    /** Where the local store is. */
    static final class Home {
        @Option(names = "--home", description = "Pricer home folder (default: PRICER_HOME or ~/.pricer).")
        Path home = TrackerOptions.defaultHome();

        TrackStore open() {
            return TrackStore.openHome(home);
        }
    }

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List runs, newest first.")
    static final class ListRuns implements Callable<Integer> {
        @Mixin Home home;
        @Option(names = "--project", description = "Only this project.") String project;
        @Option(names = "--status", description = "running, finished, failed or crashed.") String status;
        @Option(names = "--tag", description = "Only runs with this tag.") String tag;
        @Option(names = "--config", description = "KEY=VALUE: only runs with this config value.") String config;
        @Option(names = "--sort", description = "name, started, status, duration, config.KEY or metric.KEY (default: ${DEFAULT-VALUE}).")
        String sort = "started";
        @Option(names = "--asc", description = "Ascending order.") boolean ascending;
        @Option(names = "--json", description = "Print JSON.") boolean json;

        @Override
        public Integer call() throws Exception {
            return UserErrors.reported("runs list", this::run);
        }

        private Integer run() throws Exception {
            RunQuery query = new RunQuery(project, status == null ? null : RunStatus.parse(status), tag, null, null, sort, !ascending, 100_000);
            if (config != null) {
                int eq = config.indexOf('=');
                if (eq <= 0) throw new IllegalArgumentException("--config must be KEY=VALUE, not '" + config + "'");
                query = query.withConfig(config.substring(0, eq), config.substring(eq + 1));
            }
            try (TrackStore store = home.open()) {
                List<RunInfo> runs = store.runs(query);
                if (json) {
                    System.out.println(Json.MAPPER.writeValueAsString(runs));
                    return 0;
                }
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[]{"ID", "PROJECT", "NAME", "STATUS", "STARTED", "DURATION", "TRAIN/LOSS", "EVAL/LOSS"});
                for (RunInfo r : runs) {
                    rows.add(new String[]{r.id(), r.project(), r.name(), r.status().wire(), TIME.format(Instant.ofEpochMilli(r.startedMs())),
                            duration(r), number(r.lastValues().get("train/loss")), number(r.lastValues().get("eval/loss"))});
                }
                printTable(System.out, rows);
            }
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a run: its facts, config and last values.")
    static final class Show implements Callable<Integer> {
        @Mixin Home home;
        @Parameters(paramLabel = "RUN", description = "The run's id.") String id;
        @Option(names = "--json", description = "Print JSON.") boolean json;

        @Override
        public Integer call() throws Exception {
            return UserErrors.reported("runs show", this::run);
        }

        private Integer run() throws Exception {
            try (TrackStore store = home.open()) {
                RunInfo r = store.requireRun(id);
                String repo = r.config().get(CheckpointOrigin.RUN_CONFIG_KEY);
                if (json) {
                    ObjectNode node = Json.MAPPER.valueToTree(r);
                    if (repo != null) node.set("hub", hubLinks(repo, r.id(), home.home));
                    System.out.println(Json.MAPPER.writeValueAsString(node));
                    return 0;
                }
                Map<String, String> facts = new LinkedHashMap<>();
                facts.put("id", r.id());
                facts.put("project", r.project());
                facts.put("name", r.name());
                facts.put("status", r.status().wire());
                facts.put("started", TIME.format(Instant.ofEpochMilli(r.startedMs())));
                facts.put("duration", duration(r));
                facts.put("host", String.valueOf(r.host()));
                facts.put("git commit", String.valueOf(r.gitCommit()));
                facts.put("command", String.valueOf(r.command()));
                facts.put("tags", String.join(", ", r.tags()));
                if (repo != null) facts.put("repository", repo);
                facts.put("notes", r.notes() == null ? "" : r.notes());
                facts.put("points", Long.toString(r.lastSeq()));
                facts.forEach((k, v) -> System.out.printf("%-11s %s%n", k, v));
                System.out.println("config:");
                r.config().forEach((k, v) -> System.out.printf("  %s = %s%n", k, v));
                System.out.println("last values:");
                r.lastValues().forEach((k, v) -> System.out.printf("  %s = %s%n", k, number(v)));
            }
            return 0;
        }
    }

    /**
     * The run's hub repository and the checkpoint commits in it that name this run, each with its step: what the
     * run page links to. The hub is the one the trainer pushed to (the home's local hub, or PRICER_HUB_URL).
     */
    static ObjectNode hubLinks(String repo, String runId, Path home) {
        ObjectNode hub = Json.MAPPER.createObjectNode().put("repo", repo);
        ArrayNode checkpoints = hub.putArray("checkpoints");
        try (HubClient client = Hubs.fromEnvironment(Hubs.environment(home))) {
            RepoId id = RepoId.model(repo);
            Map<String, List<String>> tags = Ref.tagsByCommit(client.refs(id));
            List<CommitInfo> log = new ArrayList<>(client.log(id, "main", 10_000));
            Collections.reverse(log);
            for (CommitInfo commit : log) {
                CheckpointOrigin.of(commit, tags.getOrDefault(commit.sha(), List.of()))
                        .filter(origin -> origin.runId() == null || origin.runId().equals(runId))
                        .ifPresent(origin -> checkpoints.addObject().put("step", origin.step()).put("commit", commit.sha()).put("title", commit.title()));
            }
        } catch (HubException e) {
            hub.put("error", e.getMessage());
        }
        return hub;
    }

    @Command(name = "rename", mixinStandardHelpOptions = true, description = "Rename a run.")
    static final class Rename implements Callable<Integer> {
        @Mixin Home home;
        @Parameters(index = "0", paramLabel = "RUN", description = "The run's id.") String id;
        @Parameters(index = "1", paramLabel = "NAME", description = "Its new name.") String name;
        @Option(names = "--json", description = "Print the renamed run as JSON.") boolean json;

        @Override
        public Integer call() throws Exception {
            return UserErrors.reported("runs rename", this::run);
        }

        private Integer run() throws Exception {
            try (TrackStore store = home.open()) {
                store.rename(id, name);
                if (json) System.out.println(Json.MAPPER.writeValueAsString(store.requireRun(id)));
                else System.out.println("renamed " + id + " to " + name);
            }
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete runs with their config and metrics, for good: from the local store and, with a server, from it too.")
    static final class Delete implements Callable<Integer> {
        @Mixin Home home;
        @Parameters(paramLabel = "RUN", arity = "1..*", description = "The runs' ids.") List<String> ids;
        @Option(names = "--yes", description = "Delete without asking: needed, as nothing brings a run back.") boolean yes;
        @Option(names = "--server", description = "The server to delete them from too (default: PRICER_SERVER).") URI server;
        @Option(names = "--token", description = "Bearer token (default: PRICER_TOKEN).") String token = System.getenv("PRICER_TOKEN");
        @Option(names = "--json", description = "Print JSON.") boolean json;

        @Override
        public Integer call() throws Exception {
            return UserErrors.reported("runs delete", this::run);
        }

        private Integer run() throws Exception {
            URI target = server != null ? server : TrackerOptions.fromEnvironment().server();
            try (TrackStore store = home.open(); TrackClient client = target == null ? null : new TrackClient(target, token)) {
                Map<String, RunInfo> local = new LinkedHashMap<>();
                for (String id : ids) store.run(id).ifPresent(info -> local.put(id, info));
                if (!yes) {
                    List<String> named = ids.stream().map(id -> local.containsKey(id) ? id + " (" + local.get(id).project() + "/" + local.get(id).name() + ")" : id).toList();
                    throw new IllegalArgumentException("not deleting " + String.join(", ", named) + (target == null ? "" : " here and on " + target)
                            + ": nothing brings a run back; run again with --yes");
                }
                List<Deleted> deleted = new ArrayList<>();
                for (String id : ids) {
                    List<String> where = new ArrayList<>();
                    if (local.containsKey(id)) {
                        deleteLocally(store, id);
                        where.add("here");
                    }
                    if (client != null) {
                        try {
                            client.deleteRun(id);
                            where.add(target.toString());
                        } catch (TrackClient.NotFound absent) {
                            // Never synced there, or deleted there already.
                        }
                    }
                    if (where.isEmpty()) throw new IllegalArgumentException("no run with id '" + id + "'" + (target == null ? " here" : " here or on " + target));
                    deleted.add(new Deleted(id, where));
                    if (!json) System.out.println("deleted run " + id + " (" + String.join(", ", where) + ")");
                }
                if (json) System.out.println(Json.MAPPER.writeValueAsString(deleted));
            }
            return 0;
        }

        /** A deleted run, and where from: "here" (the local store) and the server. */
        record Deleted(String id, List<String> from) {
        }

        private static void deleteLocally(TrackStore store, String id) {
            try {
                store.deleteRun(id);
            } catch (IllegalStateException running) {
                throw new IllegalArgumentException(running.getMessage(), running);
            }
        }
    }

    @Command(name = "tags", mixinStandardHelpOptions = true, description = "Add tags to a run or remove them; without either, print them.")
    static final class Tags implements Callable<Integer> {
        @Mixin Home home;
        @Parameters(index = "0", paramLabel = "RUN", description = "The run's id.") String id;
        @Option(names = "--add", split = ",", description = "Tags to add (repeat, or separate by commas).") List<String> add = new ArrayList<>();
        @Option(names = "--remove", split = ",", description = "Tags to remove.") List<String> remove = new ArrayList<>();
        @Option(names = "--json", description = "Print the tags as JSON.") boolean json;

        @Override
        public Integer call() throws Exception {
            return UserErrors.reported("runs tags", this::run);
        }

        private Integer run() throws Exception {
            try (TrackStore store = home.open()) {
                List<String> tags = new ArrayList<>(store.requireRun(id).tags());
                if (!add.isEmpty() || !remove.isEmpty()) {
                    for (String tag : add) if (!tag.isBlank() && !tags.contains(tag.strip())) tags.add(tag.strip());
                    tags.removeAll(remove);
                    store.setTags(id, tags);
                }
                List<String> now = store.requireRun(id).tags();
                System.out.println(json ? Json.MAPPER.writeValueAsString(now) : String.join(", ", now));
            }
            return 0;
        }
    }

    @Command(name = "history", mixinStandardHelpOptions = true, description = "Print one metric's history (CSV, or JSON).")
    static final class History implements Callable<Integer> {
        @Mixin Home home;
        @Parameters(index = "0", paramLabel = "RUN", description = "The run's id.") String id;
        @Parameters(index = "1", paramLabel = "KEY", description = "The metric, e.g. train/loss.") String key;
        @Option(names = "--json", description = "Print JSON.") boolean json;

        @Override
        public Integer call() throws Exception {
            return UserErrors.reported("runs history", this::run);
        }

        private Integer run() throws Exception {
            try (TrackStore store = home.open()) {
                store.requireRun(id);
                List<Point> points = store.fullHistory(id, key);
                if (json) {
                    System.out.println(Json.MAPPER.writeValueAsString(points));
                    return 0;
                }
                System.out.println("segment,step,wall_ms,value");
                for (Point p : points) System.out.println(p.segment() + "," + p.step() + "," + p.wallMs() + "," + p.value());
            }
            return 0;
        }
    }

    @Command(name = "sync", mixinStandardHelpOptions = true,
            description = "Upload to a server what runs wrote while it was unreachable (all runs it has not fully seen, or those named).")
    static final class Sync implements Callable<Integer> {
        @Mixin Home home;
        @Option(names = "--server", description = "The server (default: PRICER_SERVER).") URI server;
        @Option(names = "--token", description = "Bearer token (default: PRICER_TOKEN).") String token = System.getenv("PRICER_TOKEN");
        @Option(names = "--json", description = "Print JSON.") boolean json;
        @Parameters(paramLabel = "RUN", arity = "0..*", description = "Only these runs.") List<String> ids = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            return UserErrors.reported("runs sync", this::run);
        }

        private Integer run() throws Exception {
            URI target = server != null ? server : TrackerOptions.fromEnvironment().server();
            if (target == null) throw new IllegalArgumentException("no server: pass --server URL or set PRICER_SERVER");
            try (TrackStore store = home.open(); TrackClient client = new TrackClient(target, token)) {
                List<String> runs = ids.isEmpty() ? store.unsynced().stream().map(RunInfo::id).toList() : ids;
                Uploader uploader = new Uploader(store, client);
                ProgressBar progress = ProgressBar.onStandardError("sync", runs.size(), ProgressBar.Unit.COUNT);
                long points = 0;
                for (int i = 0; i < runs.size(); i++) {
                    long sent = uploader.upload(runs.get(i));
                    points += sent;
                    progress.message("run " + runs.get(i) + ": " + sent + " points");
                    progress.update(i + 1, "runs");
                }
                progress.finish(runs.size(), "runs");
                if (json) System.out.println(Json.MAPPER.writeValueAsString(Map.of("server", target.toString(), "runs", runs, "points", points)));
                else System.out.println("synced " + runs.size() + " runs, " + points + " points to " + target);
            }
            return 0;
        }
    }

    static String duration(RunInfo r) {
        long end = r.endedMs() != null ? r.endedMs() : (r.status() == RunStatus.RUNNING ? System.currentTimeMillis() : r.heartbeatMs());
        long s = Math.max(0, (end - r.startedMs()) / 1000);
        return s >= 3600 ? "%dh%02dm".formatted(s / 3600, s % 3600 / 60) : s >= 60 ? "%dm%02ds".formatted(s / 60, s % 60) : s + "s";
    }

    static String number(Double v) {
        return v == null ? "" : Double.isFinite(v) ? "%.5g".formatted(v) : v.toString();
    }

    static void printTable(PrintStream out, List<String[]> rows) {
        int[] width = new int[rows.getFirst().length];
        for (String[] row : rows) for (int i = 0; i < row.length; i++) width[i] = Math.max(width[i], row[i].length());
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) line.append(i == 0 ? "" : "  ").append(String.format("%-" + width[i] + "s", row[i]));
            out.println(line.toString().stripTrailing());
        }
    }
}
