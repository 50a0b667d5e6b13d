package dev.pricer.cli.train;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.cli.data.HubDatasets;
import dev.pricer.cli.device.DeviceOptions;
import dev.pricer.cli.progress.TransferBar;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.lora.PeftAdapter;
import dev.pricer.eval.checkpoint.Checkpoints;
import dev.pricer.eval.checkpoint.LocatedBase;
import dev.pricer.eval.checkpoint.ModelRef;
import dev.pricer.hub.CheckpointOrigin;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.HubException;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.RepoId;
import dev.pricer.track.Run;
import dev.pricer.track.RunSpec;
import dev.pricer.track.Tracker;
import dev.pricer.track.TrackerOptions;
import dev.pricer.track.store.NoSuchRunException;
import dev.pricer.train.metrics.MetricsSink;
import dev.pricer.train.TrainingJob;
import dev.pricer.train.data.ExamplesFile;
import dev.pricer.train.checkpoint.Checkpoint;
import dev.pricer.train.checkpoint.CheckpointSink;
import dev.pricer.train.checkpoint.CheckpointStore;
import dev.pricer.train.config.TrainingArguments;
import dev.pricer.train.config.TrainingArgumentsIO;
import dev.pricer.train.loop.Trainer;
import dev.pricer.train.loop.TrainingDivergedException;
import dev.pricer.train.metrics.JsonlMetricsSink;
import dev.pricer.train.progress.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;
import sun.misc.Signal;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code pricer train}: completion-only fine-tuning of a Hugging Face Llama model, LoRA by default, with
 * checkpoints in the run folder ({@code PRICER_HOME/runs/<project>/<name>}) and metrics beside them.
 * Ctrl-C saves a checkpoint and exits; {@code --resume} continues exactly where a run stopped.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        modelTransformer = TrainingArgumentOptions.class,
        description = {"Fine-tune a model to estimate prices (LoRA by default; --use-peft=false trains every weight).",
                "Training arguments have Hugging Face's names; they come from --config YAML and any flag below."})
public final class TrainCommand implements Callable<Integer> {

    static final int EXIT_DIVERGED = 3;
    static final int EXIT_INTERRUPTED = 130;
    private final Map<String, sun.misc.SignalHandler> previousHandlers = new java.util.HashMap<>();
    static final String TRACKED_RUN_FILE = "tracked-run-id";
    /** The config key of a run tracked anew on resume: the checkpoint it continues (a folder, or repo@sha of the hub). */
    static final String RESUMED_FROM = "resumed_from";
    private static final ObjectMapper JSON = new ObjectMapper();
    static final DateTimeFormatter RUN_NAME = DateTimeFormatter.ofPattern("yyyy-MM-dd_HH.mm.ss");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--base", description = "a Hugging Face model folder (config.json, safetensors, tokenizer.json); hf:owner/name[@rev]"
            + " downloaded through the Hugging Face Hub protocol (HF_ENDPOINT, HF_TOKEN); or owner/name[@rev], a repository of the hub"
            + " checkpoints go to, else of the Hugging Face Hub")
    String baseModel;

    @Option(names = "--preset", description = "named settings, under any flag given: course (the course's QLoRA run of Llama 3.1 8B)")
    String preset;

    private LocatedBase base;

    @Option(names = "--data", required = true, paramLabel = "DATA", description = "training examples: JSON lines (prompt + completion, or text + price),"
            + " a dataset folder or Parquet file of items (its train split), or a dataset repository: datasets/owner/name[@rev] of the hub,"
            + " hf:datasets/owner/name[@rev] of the Hugging Face Hub")
    String dataRef;

    private HubDatasets.Located data;

    @Option(names = "--project", defaultValue = "pricer", description = "project the run belongs to (default: ${DEFAULT-VALUE})")
    String project;

    @Option(names = "--name", description = "run name (default: the start time, e.g. 2026-11-27_16.04.05)")
    String name;

    @Option(names = "--config", description = "training arguments as YAML, with Hugging Face's names")
    Path config;

    @Option(names = "--resume", arity = "0..1", fallbackValue = "latest", paramLabel = "CHECKPOINT",
            description = "continue from the run's latest checkpoint (with --name); from the checkpoint folder given; or from a checkpoint"
                    + " commit of the hub, owner/name[@revision], committed with --hub-strategy checkpoint, on any machine (with PRICER_SERVER,"
                    + " the tracked run goes on too). --base defaults to the base the checkpoint's adapter names")
    String resume;

    @Option(names = "--from-scratch", description = "random initial weights in the architecture of --base's config.json,"
            + " every one trained (needs --use-peft=false)")
    boolean fromScratch;

    @Option(names = "--home", description = "where runs are kept (default: $PRICER_HOME, else ~/.pricer)")
    Path home;

    @Option(names = "--no-track", description = "do not record the run in the tracking store (metrics stay in the run folder)")
    boolean noTrack;

    @CommandLine.Mixin
    DeviceOptions device;

    @Option(names = "--no-push", description = "do not commit checkpoints to the run's hub repository {project}/{project}-{name}")
    boolean noPush;

    @Override
    public Integer call() throws Exception {
        Map<String, String> flags = TrainingArgumentOptions.given(spec);
        if (preset != null) {
            Preset p = Preset.parse(preset);
            flags = p.under(flags);
            if (baseModel == null) baseModel = p.base();
        }
        data = HubDatasets.locate(dataRef, pricerHome(), () -> Hubs.fromEnvironment(hubEnvironment()), hubEnvironment(), System.out::println,
                TransferBar.on(new PrintWriter(System.out, true)));
        // The model card names a hub dataset, as the Trainer's names dataset_name.
        if (data.dataset() != null) flags.putIfAbsent("dataset_name", data.dataset());
        Optional<Checkpoint> from = Optional.empty();
        Optional<HubResume> fromHub = Optional.empty();
        Path runDir;
        TrainingArguments args;
        if (resume != null) {
            Resumption resumption = resumption();
            Checkpoint cp = resumption.checkpoint();
            runDir = resumption.runDir();
            from = Optional.of(cp);
            fromHub = resumption.fromHub();
            // The run's own arguments, so the continuation is the run that stopped; flags may still change some.
            args = TrainingArgumentsIO.override(TrainingArgumentsIO.read(cp.file(Trainer.ARGS_FILE)), flags, cp.file(Trainer.ARGS_FILE).toString());
            if (baseModel == null && Files.isRegularFile(cp.dir().resolve(PeftAdapter.CONFIG_FILE))) {
                baseModel = PeftAdapter.readBase(cp.dir()).reference();
                System.out.println("base model " + baseModel + ", as the checkpoint's " + PeftAdapter.CONFIG_FILE + " names it");
            }
        } else {
            if (name == null) name = LocalDateTime.now().format(RUN_NAME);
            runDir = runsRoot().resolve(project).resolve(name);
            if (new CheckpointStore(runDir).latest().isPresent()) {
                throw new IllegalStateException("run " + runDir + " already has checkpoints; use --resume to continue it, or another --name");
            }
            args = TrainingArgumentsIO.load(config, flags);
        }
        if (baseModel == null) throw new CommandLine.ParameterException(spec.commandLine(), "give --base (a model folder, hf:owner/name or a hub repository) or --preset");
        base = BaseModels.resolve(baseModel, pricerHome(), hubEnvironment(), System.out::println, TransferBar.on(new PrintWriter(System.out, true)));

        ExamplesFile.checkStart(data.path());
        if (args.validationFile() != null) ExamplesFile.checkStart(Path.of(args.validationFile()));
        Progress progress = Progress.forConsole(System.out);
        progress.message("run " + project + "/" + runDir.getFileName() + " in " + runDir + from.map(c -> ", resuming from " + c.dir()).orElse(""));
        int resumeStep = from.map(Checkpoint::step).orElse(0);
        String runName = runDir.getFileName().toString();
        RepoId repo = HubCheckpoints.repoOf(project, runName);
        try (Backend backend = device.open(progress::message);
             Tracker tracker = noTrack ? null : Tracker.open(trackerOptions())) {
            Run run = tracker == null ? null : trackedRun(tracker, runDir, runName, args, from, fromHub, noPush ? null : repo);
            if (run != null) progress.message("tracked as run " + run.id() + " of project " + project);
            MetricsSink folder = JsonlMetricsSink.open(runDir.resolve(JsonlMetricsSink.FILE), resumeStep);
            try (CheckpointSink checkpoints = noPush ? CheckpointSink.RUN_FOLDER_ONLY
                         : new HubCheckpoints(Hubs.fromEnvironment(hubEnvironment()), repo, run == null ? null : run.id(), args.hubStrategy(),
                                 args.hubPrivateRepo());
                 MetricsSink metrics = run == null ? folder : new TrackedMetrics(run, folder)) {
                if (!noPush) progress.message("checkpoints are committed to hub repository " + repo);
                TrainingJob.Spec job = new TrainingJob.Spec(base.dir(), base.ref(), data.path(), runDir, args, from, fromScratch);
                Trainer.Result result = TrainingJob.run(job, backend, new TrainingJob.Sinks(metrics, checkpoints, progress),
                        this::stopOnSignals);
                if (result.status() == Trainer.Status.INTERRUPTED) {
                    System.err.println("interrupted at step " + result.globalStep() + "; resume with: pricer train --base " + baseModel
                            + " --data " + dataRef + " --resume " + result.lastCheckpoint().map(c -> c.dir().toString()).orElse(""));
                    return EXIT_INTERRUPTED;
                }
                if (run != null) run.finish();
                progress.message("done: " + result.globalStep() + " steps; final checkpoint " + result.lastCheckpoint().map(Checkpoint::dir).orElseThrow());
                return 0;
            } catch (TrainingDivergedException e) {
                if (run != null) run.fail(e);
                System.err.println(e.getMessage());
                return EXIT_DIVERGED;
            } catch (RuntimeException | java.io.IOException e) {
                if (run != null) run.fail(e);
                throw e;
            } finally {
                restoreSignals();
            }
        }
    }

    /**
     * A new run, or, on resume, the run it continues: the one the folder was tracked as (its id kept in
     * {@value #TRACKED_RUN_FILE}), else the one a hub checkpoint's commit names, which {@link Tracker#resume} copies from
     * the server when another machine tracked it. A run that cannot be found is tracked anew, its config naming the
     * checkpoint it resumed ({@value #RESUMED_FROM}). A new run records the hub repository its checkpoints go to
     * ({@code repo}, null when they are not pushed) as config {@code hub.repo} ({@link CheckpointOrigin#RUN_CONFIG_KEY}):
     * the dashboard's link from the run to its repository.
     */
    private Run trackedRun(Tracker tracker, Path runDir, String runName, TrainingArguments args, Optional<Checkpoint> from,
                           Optional<HubResume> fromHub, RepoId repo) throws java.io.IOException {
        Path idFile = runDir.resolve(TRACKED_RUN_FILE);
        Optional<String> continued = from.isEmpty() ? Optional.empty()
                : Files.isRegularFile(idFile) ? Optional.of(Files.readString(idFile).strip()) : fromHub.flatMap(HubResume::trackedRunId);
        if (continued.isPresent()) {
            try {
                return remembered(idFile, tracker.resume(continued.get()));
            } catch (NoSuchRunException e) {
                URI server = trackerOptions().server();
                System.out.println("tracked run " + continued.get() + " is not in this machine's store, " + (server == null
                        ? "and PRICER_SERVER names no server to copy it from" : "nor on " + server) + ": tracking the rest of the run as a new one");
            } catch (UncheckedIOException e) {
                System.out.println(e.getMessage() + ": tracking the rest of the run as a new one");
            }
        }
        Map<String, Object> config = new java.util.LinkedHashMap<>(JSON.convertValue(args, new TypeReference<Map<String, Object>>() { }));
        config.put("base", base.ref().reference());
        config.put("data", data.label());
        config.put("from_scratch", fromScratch);
        if (repo != null) config.put(CheckpointOrigin.RUN_CONFIG_KEY, repo.toString());
        from.ifPresent(cp -> config.put(RESUMED_FROM, fromHub.map(HubResume::label).orElse(cp.dir().toString())));
        return remembered(idFile, tracker.start(RunSpec.of(project).withName(runName).withConfig(config)
                .withTags(List.of(fromScratch ? "from-scratch" : args.usePeft() ? "lora" : "full"))));
    }

    /** Keeps the tracked run's id in the run folder, where a later resume finds it. */
    private static Run remembered(Path idFile, Run run) throws java.io.IOException {
        Files.createDirectories(idFile.getParent());
        Files.writeString(idFile, run.id());
        return run;
    }

    private TrackerOptions trackerOptions() {
        TrackerOptions env = TrackerOptions.fromEnvironment();
        return new TrackerOptions(pricerHome(), env.server(), env.token(), env.systemMetricsEvery());
    }

    /** The environment, with PRICER_HOME set to this command's home, so the local hub lives beside the runs. */
    private Map<String, String> hubEnvironment() {
        return Hubs.environment(pricerHome());
    }

    /** The checkpoint a run goes on from, its run folder, and the hub commit it came from when it did. */
    private record Resumption(Checkpoint checkpoint, Path runDir, Optional<HubResume> fromHub) {
    }

    /** What {@code --resume} names: the named run's latest checkpoint, a hub commit (installed into the run folder) or a folder. */
    private Resumption resumption() {
        if (resume.equals("latest")) {
            if (name == null) throw new CommandLine.ParameterException(spec.commandLine(), "--resume without a checkpoint needs --name of the run to resume");
            Path runDir = runsRoot().resolve(project).resolve(name);
            Checkpoint cp = new CheckpointStore(runDir).latest().orElseThrow(() -> new IllegalStateException("nothing to resume: "
                    + (Files.isDirectory(runDir) ? "run " + runDir + " stopped before its first complete checkpoint; start it again without --resume"
                    : "no run " + project + "/" + name + " in " + runDir.getParent())));
            return new Resumption(cp, runDir, Optional.empty());
        }
        if (!isHubReference(resume)) {
            Checkpoint cp = CheckpointStore.open(Path.of(resume).toAbsolutePath());
            return new Resumption(cp, cp.dir().getParent(), Optional.empty());
        }
        try (HubClient hub = Hubs.fromEnvironment(hubEnvironment())) {
            TransferBar transfer = TransferBar.on(new PrintWriter(System.out, true));
            HubResume found = findOnHub(hub, transfer);
            // The run's own project and name by default, so its checkpoints go on in the same repository.
            if (!spec.commandLine().getParseResult().hasMatchedOption("--project")) project = found.repo().namespace();
            if (name == null) name = found.runName();
            Path runDir = runsRoot().resolve(project).resolve(name);
            System.out.println("resuming " + found.label() + ", step " + found.step() + ", as run " + project + "/" + name);
            return new Resumption(found.installInto(runDir, hub, transfer), runDir, Optional.of(found));
        } catch (java.io.IOException e) {
            throw new UncheckedIOException("cannot install the hub checkpoint " + resume + ": " + e.getMessage(), e);
        }
    }

    /** The hub commit {@code --resume} names. */
    private HubResume findOnHub(HubClient hub, TransferBar transfer) {
        try {
            return HubResume.find(hub, new Checkpoints(hub, pricerHome().resolve("cache"), transfer), ModelRef.parse(resume));
        } catch (HubException.NotFound e) {
            if (e.missing() != HubException.Missing.REPO) throw e;
            throw new IllegalArgumentException("nothing to resume from: " + resume + " is not a checkpoint folder here, and the hub has no"
                    + " repository " + ModelRef.parse(resume).repo(), e);
        }
    }

    /** {@code owner/name[@revision]} rather than a folder: one slash before any '@', and no folder of that name here. */
    private static boolean isHubReference(String text) {
        if (Files.exists(Path.of(text))) return false;
        String repo = text.contains("@") ? text.substring(0, text.indexOf('@')) : text;
        return repo.chars().filter(c -> c == '/').count() == 1 && !repo.startsWith(".") && !repo.startsWith("/");
    }

    private Path pricerHome() {
        if (home != null) return home;
        String env = System.getenv("PRICER_HOME");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".pricer");
    }

    private Path runsRoot() {
        return pricerHome().resolve("runs");
    }

    /**
     * The first Ctrl-C (or TERM) asks for a checkpoint and a clean stop; a second one ends the process at once.
     * {@code sun.misc.Signal} (jdk.unsupported) is the only way to handle a signal without starting the JVM's
     * shutdown, which would leave no time to finish the step and write the checkpoint.
     */
    private void stopOnSignals(Trainer trainer) {
        AtomicInteger signals = new AtomicInteger();
        for (String name : new String[]{"INT", "TERM"}) {
            previousHandlers.put(name, Signal.handle(new Signal(name), s -> {
                if (signals.incrementAndGet() > 1) Runtime.getRuntime().halt(EXIT_INTERRUPTED);
                System.err.println("\nstopping after this step to save a checkpoint (press Ctrl-C again to quit at once)");
                trainer.requestStop();
            }));
        }
    }

    /** Gives Ctrl-C back to whatever handled it before training (the JVM's shutdown, when run in a longer command). */
    private void restoreSignals() {
        previousHandlers.forEach((name, handler) -> Signal.handle(new Signal(name), handler));
        previousHandlers.clear();
    }
}
