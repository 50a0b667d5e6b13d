package dev.pricer.cli.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.cli.PricerCommand;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.LocalHub;
import dev.pricer.hub.Push;
import dev.pricer.hub.RepoId;
import dev.pricer.train.checkpoint.Checkpoint;
import dev.pricer.train.checkpoint.CheckpointStore;
import dev.pricer.cli.server.ServerCommand;
import dev.pricer.track.model.Point;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunQuery;
import dev.pricer.track.remote.TrackClient;
import dev.pricer.track.store.TrackStore;
import dev.pricer.train.metrics.JsonlMetricsSink;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code pricer train} end to end on the tiny model, in this JVM and as a separate process that gets killed. */
class TrainCommandTest {

    static final Map<String, String> SMALL = Map.of("--per-device-train-batch-size", "2", "--max-steps", "8", "--save-steps", "2",
            "--logging-steps", "1", "--validation-split-percentage", "0", "--lora-r", "4", "--learning-rate", "3e-3",
            "--lr-scheduler-type", "cosine", "--warmup-steps", "1", "--lora-target-modules", "q_proj,v_proj");

    @TempDir
    static Path dir;
    static Path base;
    static Path data;

    @BeforeAll
    static void files() throws IOException, URISyntaxException {
        Path fixture = Path.of(TrainCommandTest.class.getResource("/hf-tiny-llama/tiny-llama/config.json").toURI()).getParent();
        base = Files.createDirectories(dir.resolve("tiny-llama"));
        Files.copy(fixture.resolve("config.json"), base.resolve("config.json"));
        Files.copy(fixture.resolve("model.safetensors"), base.resolve("model.safetensors"));
        Files.copy(Path.of(TrainCommandTest.class.getResource("/tokenizers/byte-tokenizer.json").toURI()), base.resolve("tokenizer.json"));
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 16; i++) lines.add("{\"text\":\"item " + i + " of " + (i * 7 % 11) + " parts\",\"price\":" + (3 + i * 13) + "}");
        data = Files.write(dir.resolve("items.jsonl"), lines);
    }

    /** {@code pricer train} of run {@code name} with small-run flags; {@code more} are flag-value pairs or lone flags. */
    static List<String> command(String name, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--base", base.toString(), "--data", data.toString(),
                "--home", dir.resolve("home").toString(), "--project", "p", "--name", name));
        Map<String, String> flags = new java.util.TreeMap<>(SMALL);
        List<String> lone = new ArrayList<>();
        for (int i = 0; i < more.length; i++) {
            if (i + 1 < more.length && !more[i + 1].startsWith("--")) flags.put(more[i], more[++i]);
            else lone.add(more[i]);
        }
        flags.forEach((k, v) -> args.addAll(List.of(k, v)));
        args.addAll(lone);
        return args;
    }

    static int inProcess(StringWriter err, List<String> args) {
        CommandLine cmd = PricerCommand.create();
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args.toArray(String[]::new));
    }

    static Path runDir(String name) {
        return dir.resolve("home/runs/p").resolve(name);
    }

    /** Starts {@code pricer train} in a new JVM and returns once a line of its output satisfies {@code until}. */
    static Process child(List<String> args, Predicate<String> until, List<String> seen) throws IOException {
        return child(args, Map.of(), until, seen);
    }

    /** As {@link #child(List, Predicate, List)}, with {@code env} added to the process's environment. */
    static Process child(List<String> args, Map<String, String> env, Predicate<String> until, List<String> seen) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), PricerCommand.class.getName()));
        cmd.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true);
        builder.environment().putAll(env);
        Process p = builder.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
        String line;
        while ((line = out.readLine()) != null) {
            seen.add(line);
            if (until.test(line)) return p;
        }
        throw new AssertionError("the training process ended before the expected line; it printed:\n" + String.join("\n", seen));
    }

    static Map<Integer, Map<String, Object>> trainingLines(String name) throws IOException {
        return linesOf(runDir(name));
    }

    static Map<Integer, Map<String, Object>> linesOf(Path runDir) throws IOException {
        var out = new java.util.TreeMap<Integer, Map<String, Object>>();
        for (Map<String, Object> m : JsonlMetricsSink.read(runDir.resolve(JsonlMetricsSink.FILE))) {
            if (m.containsKey("train/loss")) out.put(((Number) m.get("step")).intValue(), m);
        }
        return out;
    }

    /** What each save commits follows HF's hub_strategy: the model by default, everything to resume from, or the end only. */
    @Test
    void whatEachSaveCommitsFollowsTheHubStrategy() throws Exception {
        Map<String, List<String>> committed = new java.util.TreeMap<>();
        Map<String, Integer> commits = new java.util.TreeMap<>();
        for (String strategy : List.of("every_save", "checkpoint", "end")) {
            String name = "hub-" + strategy.replace('_', '-');
            StringWriter err = new StringWriter();
            assertEquals(0, inProcess(err, command(name, "--max-steps", "4", "--save-steps", "2", "--hub-strategy", strategy, "--no-track")), err.toString());
            try (LocalHub hub = new LocalHub(Hubs.local(dir.resolve("home/hub")), "check")) {
                RepoId repo = RepoId.model("p/p-" + name);
                committed.put(strategy, hub.files(repo, "main").stream().map(f -> f.path()).toList());
                commits.put(strategy, hub.log(repo, "main", 100).size());
            }
        }
        assertEquals(List.of("README.md", "adapter_config.json", "adapter_model.safetensors", "trainer_state.json", "training_args.yaml"),
                committed.get("every_save"), "by default the model, its card and the trainer state");
        assertTrue(committed.get("checkpoint").containsAll(List.of("optimizer.safetensors", "scheduler.json", "rng_state.json", "adapter_model.safetensors")),
                committed.get("checkpoint").toString());
        assertEquals(committed.get("every_save"), committed.get("end"));
        assertEquals(Map.of("checkpoint", 2, "end", 1, "every_save", 2), commits, "end commits the last save only");
        assertEquals(0, inProcess(new StringWriter(), command("hub-private", "--max-steps", "2", "--hub-private-repo", "--no-track")));
        try (LocalHub hub = new LocalHub(Hubs.local(dir.resolve("home/hub")), "check")) {
            assertTrue(hub.repoInfo(RepoId.model("p/p-hub-private")).orElseThrow().isPrivate(), "hub_private_repo, as the Trainer's");
            assertFalse(hub.repoInfo(RepoId.model("p/p-hub-end")).orElseThrow().isPrivate());
        }
        var bad = new StringWriter();
        assertEquals(1, inProcess(bad, command("hub-bad", "--hub-strategy", "all_checkpoints", "--no-track")));
        assertTrue(bad.toString().contains("hub_strategy") && bad.toString().contains("[every_save, checkpoint, end]"), bad.toString());
    }

    /** A base kept in Pricer's hub trains as a folder does, and the adapter names it by repository and commit. */
    @Test
    void aBaseFromTheHubIsNamedByItsRepositoryAndCommit() throws Exception {
        RepoId repo = RepoId.model("shop/tiny-base");
        String sha;
        try (LocalHub hub = new LocalHub(Hubs.local(dir.resolve("home/hub")), "shop")) {
            hub.ensureRepo(repo, false);
            sha = hub.push(repo, Push.directory(base, "tiny base")).sha();
        }
        List<String> args = command("from-hub", "--max-steps", "2", "--no-track");
        args.set(args.indexOf("--base") + 1, repo.toString());
        StringWriter err = new StringWriter();
        assertEquals(0, inProcess(err, args), err.toString());
        JsonNode adapter = new ObjectMapper().readTree(runDir("from-hub").resolve("checkpoint-2/adapter_config.json").toFile());
        assertEquals("shop/tiny-base", adapter.get("base_model_name_or_path").asText());
        assertEquals(sha, adapter.get("revision").asText());
        String card = Files.readString(runDir("from-hub").resolve("checkpoint-2/README.md"));
        assertTrue(card.startsWith("---\nbase_model: shop/tiny-base\nlibrary_name: peft\n") && card.contains("A LoRA adapter of `shop/tiny-base@" + sha + "`"),
                "the model card the hub's page shows: " + card);
    }

    @Test
    void aRunKilledAfterACheckpointResumesAsTheUninterruptedRun() throws Exception {
        StringWriter err = new StringWriter();
        assertEquals(0, inProcess(err, command("whole", "--save-total-limit", "2")), err.toString());
        assertEquals(List.of(6, 8), new CheckpointStore(runDir("whole")).list().stream().map(Checkpoint::step).toList(),
                "save_total_limit keeps the newest two");
        StringWriter again = new StringWriter();
        assertEquals(1, inProcess(again, command("whole")));
        assertEquals("error: run " + runDir("whole") + " already has checkpoints; use --resume to continue it, or another --name\n", again.toString());

        List<String> seen = new ArrayList<>();
        Process p = child(command("killed"), l -> l.startsWith("saved ") && l.endsWith("checkpoint-2"), seen);
        p.destroyForcibly();  // SIGKILL: no handler runs, nothing is flushed
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(137, p.exitValue(), "killed by SIGKILL");
        int killedAt = new CheckpointStore(runDir("killed")).latest().orElseThrow().step();
        assertTrue(killedAt >= 2 && killedAt < 8, "killed mid-run, at checkpoint " + killedAt);

        assertEquals(0, inProcess(err, command("killed", "--resume")), err.toString());
        // The steps before the kill ran in a fresh JVM (interpreted and C1 code at first), the rest in this one:
        // the numbers are still those of the uninterrupted run, bit for bit.
        Map<Integer, Map<String, Object>> whole = trainingLines("whole"), resumed = trainingLines("killed");
        assertEquals(whole.keySet(), resumed.keySet(), "every step logged once");
        for (int step : whole.keySet()) {
            for (String k : List.of("train/loss", "train/grad_norm", "train/learning_rate", "train/epoch")) {
                double a = ((Number) whole.get(step).get(k)).doubleValue(), b = ((Number) resumed.get(step).get(k)).doubleValue();
                assertEquals(Double.doubleToRawLongBits(a), Double.doubleToRawLongBits(b), k + " at step " + step + ": " + a + " vs " + b);
            }
        }
        Checkpoint last = new CheckpointStore(runDir("killed")).latest().orElseThrow();
        assertEquals(8, last.step());
        Checkpoint wholeLast = new CheckpointStore(runDir("whole")).latest().orElseThrow();
        assertArrayEquals(Files.readAllBytes(wholeLast.file("adapter_model.safetensors")), Files.readAllBytes(last.file("adapter_model.safetensors")),
                "the same final adapter, byte for byte");
    }

    /**
     * A run whose machine went away goes on elsewhere from its last hub commit (hub_strategy checkpoint, the hub and
     * the tracking on one server): the second machine takes the run's name, base and arguments from the commit, trains
     * the steps that were left with the numbers of an uninterrupted run, and goes on tracking the same run.
     */
    @Test
    void aRunGoesOnOnAnotherMachineFromItsHubCheckpoint() throws Exception {
        StringWriter err = new StringWriter();
        assertEquals(0, inProcess(err, command("reference", "--no-track", "--no-push")), err.toString());
        try (ServerCommand.Running server = ServerCommand.start("127.0.0.1", 0, dir.resolve("shared-server"), false)) {
            Map<String, String> env = Map.of("PRICER_SERVER", "http://127.0.0.1:" + server.server().port());
            List<String> first = command("moving", "--hub-strategy", "checkpoint");
            first.set(first.indexOf("--home") + 1, dir.resolve("machine-a").toString());
            List<String> seen = new ArrayList<>();
            Process a = child(first, env, l -> l.startsWith("saved ") && l.endsWith("checkpoint-4"), seen);
            a.destroyForcibly();
            assertTrue(a.waitFor(60, TimeUnit.SECONDS));

            Path machineB = dir.resolve("machine-b");
            List<String> output = new ArrayList<>();
            Process b = child(List.of("train", "--data", data.toString(), "--home", machineB.toString(), "--resume", "p/p-moving"), env,
                    l -> l.startsWith("done: "), output);
            assertEquals(0, b.waitFor(), String.join("\n", output));
            assertTrue(output.contains("base model " + base + ", as the checkpoint's adapter_config.json names it"), String.join("\n", output));
            Path runB = machineB.resolve("runs/p/moving");
            Map<Integer, Map<String, Object>> reference = trainingLines("reference"), continued = linesOf(runB);
            int resumedAt = continued.keySet().iterator().next() - 1;
            assertTrue(resumedAt >= 4 && resumedAt < 8, "resumed from step " + resumedAt + ", where the first machine's hub commit left it");
            for (int step : continued.keySet()) {
                double ours = ((Number) continued.get(step).get("train/loss")).doubleValue(), theirs = ((Number) reference.get(step).get("train/loss")).doubleValue();
                assertEquals(Double.doubleToRawLongBits(theirs), Double.doubleToRawLongBits(ours), "train/loss at step " + step);
            }
            assertArrayEquals(Files.readAllBytes(runDir("reference").resolve("checkpoint-8/adapter_model.safetensors")),
                    Files.readAllBytes(runB.resolve("checkpoint-8/adapter_model.safetensors")), "the same final adapter, byte for byte");

            try (TrackClient tracking = new TrackClient(java.net.URI.create(env.get("PRICER_SERVER")), null)) {
                List<RunInfo> runs = tracking.runs("p");
                assertEquals(List.of("moving"), runs.stream().map(RunInfo::name).toList(), "one run, tracked by both machines");
                assertEquals("finished", runs.getFirst().status().wire());
                List<Long> steps = tracking.points(runs.getFirst().id(), 0, 10_000).stream().filter(pt -> pt.key().equals("train/loss")).map(Point::step).toList();
                assertEquals(8L, steps.getLast(), "the second machine's steps follow the first's: " + steps);
                assertTrue(steps.subList(0, 4).equals(List.of(1L, 2L, 3L, 4L)), steps.toString());
            }
            try (LocalHub hub = new LocalHub(Hubs.local(dir.resolve("shared-server/hub")), "check")) {
                assertTrue(hub.log(RepoId.model("p/p-moving"), "main", 1).getFirst().title().startsWith("final checkpoint, step 8"));
            }
        }
    }

    /**
     * The course's flow with the datasets library, push_to_hub then load_dataset: curation commits its splits to a
     * dataset repository, and train and eval read them by the repository's name (downloaded once, by commit).
     */
    @Test
    void curatedSplitsPushedToTheHubTrainAndEvaluateByName() throws Exception {
        Path catalog = dir.resolve("catalog.jsonl");
        String home = dir.resolve("home").toString();
        StringWriter err = new StringWriter();
        assertEquals(0, inProcess(err, List.of("data", "generate", "-n", "300", "--seed", "5", "-o", catalog.toString())), err.toString());
        assertEquals(0, inProcess(err, List.of("data", "curate", catalog.toString(), "-o", dir.resolve("curated").toString(), "--no-token-limits",
                "--format", "parquet", "--train-size", "40", "--test-size", "10", "--push-to-hub", "p/prices", "--home", home)), err.toString());
        try (LocalHub hub = new LocalHub(Hubs.local(dir.resolve("home/hub")), "check")) {
            RepoId repo = RepoId.parse("datasets/p/prices");
            assertEquals(List.of("README.md", "data/test-00000-of-00001.parquet", "data/train-00000-of-00001.parquet"),
                    hub.files(repo, "main").stream().map(f -> f.path()).toList());
            try (var card = hub.open(repo, "main", "README.md")) {
                String text = new String(card.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                assertTrue(text.startsWith("---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*\n"
                        + "  - split: test\n    path: data/test-*\n"), text);
                assertTrue(text.contains("40 train and 10 test items"), text);
            }
        }

        List<String> args = command("from-dataset", "--max-steps", "2", "--no-track");
        args.set(args.indexOf("--data") + 1, "datasets/p/prices");
        assertEquals(0, inProcess(err, args), err.toString());
        assertEquals(2, new CheckpointStore(runDir("from-dataset")).latest().orElseThrow().step());
        String trained = Files.readString(runDir("from-dataset").resolve(JsonlMetricsSink.FILE));
        assertTrue(trained.contains("\"train/loss\""), trained);
        String card = Files.readString(runDir("from-dataset").resolve("checkpoint-2/README.md"));
        assertTrue(card.contains("\ndatasets:\n- p/prices\n") && card.contains("of the dataset `p/prices`"), "the model card names its dataset: " + card);

        StringWriter evaluated = new StringWriter();
        assertEquals(0, inProcess(evaluated, List.of("eval", "--data", "datasets/p/prices@main", "--baselines", "--home", home, "--size", "10",
                "--out", dir.resolve("eval-out").toString())), evaluated.toString());
        assertTrue(Files.isDirectory(dir.resolve("home/eval/p-prices")), "the leaderboard is named after the repository, owner and name");
        StringWriter missing = new StringWriter();
        assertEquals(1, inProcess(missing, List.of("eval", "--data", "datasets/p/nothing", "--baselines", "--home", home)));
        assertTrue(missing.toString().contains("datasets/p/nothing"), missing.toString());
    }

    /** A commit of the model alone (the default hub strategy) cannot be resumed from, and saying so writes nothing. */
    @Test
    void aHubCommitWithoutTheOptimizerStateIsRefusedByName() throws Exception {
        StringWriter err = new StringWriter();
        assertEquals(0, inProcess(err, command("model-only", "--max-steps", "2", "--no-track")), err.toString());
        List<String> resume = List.of("train", "--data", data.toString(), "--home", dir.resolve("home").toString(), "--name", "elsewhere");
        StringWriter refused = new StringWriter();
        assertEquals(1, inProcess(refused, concat(resume, "--resume", "p/p-model-only@step-2")));
        assertTrue(refused.toString().contains("cannot resume from p/p-model-only@step-2 (") && refused.toString().contains(
                "step 2: it holds no optimizer.safetensors, scheduler.json, rng_state.json. Its run committed the model alone (hub_strategy every_save);"
                        + " train with --hub-strategy checkpoint"), refused.toString());
        StringWriter nowhere = new StringWriter();
        assertEquals(1, inProcess(nowhere, concat(resume, "--resume", "nobody/nothing")));
        assertTrue(nowhere.toString().contains("nothing to resume from: nobody/nothing is not a checkpoint folder here, and the hub has no repository nobody/nothing"),
                nowhere.toString());
        StringWriter revision = new StringWriter();
        assertEquals(1, inProcess(revision, concat(resume, "--resume", "p/p-model-only@step-9")));
        assertTrue(revision.toString().contains("unknown revision 'step-9' of p/p-model-only; recent revisions: "), revision.toString());
        assertFalse(Files.exists(runDir("elsewhere")), "nothing written for the refused run");
    }

    private static List<String> concat(List<String> args, String... more) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of(more));
        return all;
    }

    @Test
    void ctrlCSavesACheckpointAndExits() throws Exception {
        List<String> seen = new ArrayList<>();
        // Enough steps that the run cannot end before the signal arrives, even on a loaded machine.
        Process p = child(command("interrupted", "--save-steps", "1000", "--max-steps", "400"), l -> l.startsWith("step 1/"), seen);
        new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).inheritIO().start().waitFor();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the process stops");
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        assertEquals(TrainCommand.EXIT_INTERRUPTED, p.exitValue());
        Checkpoint cp = new CheckpointStore(runDir("interrupted")).latest().orElseThrow();
        assertTrue(cp.step() >= 1 && cp.step() < 400, "saved where it stopped, not at save_steps: " + cp.step());
        assertTrue(cp.files().contains("adapter_model.safetensors"), cp.files().toString());
    }

    @Test
    void deviceCudaWithoutAGpuFailsNamingWhatIsMissingBeforeAnythingIsWritten() {
        org.junit.jupiter.api.Assumptions.assumeFalse(dev.pricer.cli.device.DeviceOptionsTest.gpuUsable(), "this machine has a GPU");
        StringWriter err = new StringWriter();
        assertEquals(1, inProcess(err, command("on-cuda", "--device", "cuda")));
        assertTrue(err.toString().startsWith("error: --device cuda: CUDA is not available"), err.toString());
        assertFalse(Files.exists(runDir("on-cuda")), "no run folder");
    }

    /** A wrong or missing data file is found before the run starts: no run folder, no tracked run. */
    @Test
    void wrongDataFailsBeforeAnythingIsWritten() throws IOException {
        Path catalog = Files.writeString(dir.resolve("catalog.jsonl"), "{\"title\": \"a lamp\", \"price\": 12.5}\n");
        for (Path wrong : List.of(catalog, dir.resolve("no-such.jsonl"))) {
            List<String> args = command("wrong-data");
            args.set(args.indexOf("--data") + 1, wrong.toString());
            StringWriter err = new StringWriter();
            assertEquals(1, inProcess(err, args));
            String expected = wrong == catalog ? catalog + ":1: expected" : "cannot read training data " + wrong + ": no such file";
            assertTrue(err.toString().contains(expected), err.toString());
            assertFalse(Files.exists(runDir("wrong-data")), "no run folder");
            try (TrackStore store = TrackStore.openHome(dir.resolve("home"))) {
                assertTrue(store.runs(RunQuery.project("p")).stream().noneMatch(r -> r.name().equals("wrong-data")), "no tracked run");
            }
        }
    }

    @Test
    void badArgumentsGetOneLineErrorsNamingTheFieldAndFile() throws IOException {
        Path yaml = Files.writeString(dir.resolve("bad.yaml"), "learning_rate: 1e-4\nwarmup_ration: 0.1\n");
        StringWriter err = new StringWriter();
        assertEquals(1, inProcess(err, command("bad", "--config", yaml.toString())));
        assertTrue(err.toString().contains("warmup_ration") && err.toString().contains("bad.yaml"), err.toString());

        err = new StringWriter();
        assertEquals(1, inProcess(err, command("never-ran", "--resume")));
        assertEquals("error: nothing to resume: no run p/never-ran in " + dir.resolve("home/runs/p") + "\n", err.toString());
        Files.createDirectories(runDir("no-save").resolve("checkpoint-4.tmp"));
        err = new StringWriter();
        assertEquals(1, inProcess(err, command("no-save", "--resume")));
        assertTrue(err.toString().startsWith("error: nothing to resume: run " + runDir("no-save") + " stopped before its first complete checkpoint;"),
                err.toString());

        err = new StringWriter();
        assertEquals(1, inProcess(err, command("bad2", "--lr-scheduler-type", "cosine_with_restarts")));
        assertTrue(err.toString().contains("cosine_with_restarts"), err.toString());
        assertFalse(Files.exists(runDir("bad2").resolve("checkpoint-8")));
    }
}
