package dev.pricer.cli.train;

import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.train.TrainingJob;
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

import java.nio.file.Path;
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
    static final DateTimeFormatter RUN_NAME = DateTimeFormatter.ofPattern("yyyy-MM-dd_HH.mm.ss");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--base", required = true, description = "a Hugging Face model folder (config.json, safetensors, tokenizer.json)")
    Path base;

    @Option(names = "--data", required = true, description = "training examples, JSON lines: prompt + completion, or text + price")
    Path data;

    @Option(names = "--project", defaultValue = "pricer", description = "project the run belongs to (default: ${DEFAULT-VALUE})")
    String project;

    @Option(names = "--name", description = "run name (default: the start time, e.g. 2026-11-27_16.04.05)")
    String name;

    @Option(names = "--config", description = "training arguments as YAML, with Hugging Face's names")
    Path config;

    @Option(names = "--resume", arity = "0..1", fallbackValue = "latest", paramLabel = "CHECKPOINT",
            description = "continue from the run's latest checkpoint, or from the checkpoint folder given")
    String resume;

    @Option(names = "--from-scratch", description = "random initial weights in the architecture of --base's config.json,"
            + " every one trained (needs --use-peft=false)")
    boolean fromScratch;

    @Option(names = "--home", description = "where runs are kept (default: $PRICER_HOME, else ~/.pricer)")
    Path home;

    @Override
    public Integer call() throws Exception {
        Map<String, String> flags = TrainingArgumentOptions.given(spec);
        Optional<Checkpoint> from = Optional.empty();
        Path runDir;
        TrainingArguments args;
        if (resume != null) {
            Checkpoint cp;
            if (resume.equals("latest")) {
                if (name == null) throw new CommandLine.ParameterException(spec.commandLine(), "--resume without a checkpoint needs --name of the run to resume");
                runDir = runsRoot().resolve(project).resolve(name);
                cp = new CheckpointStore(runDir).latest().orElseThrow(() -> new CommandLine.ParameterException(spec.commandLine(),
                        "no complete checkpoint in " + runDir));
            } else {
                cp = CheckpointStore.open(Path.of(resume).toAbsolutePath());
                runDir = cp.dir().getParent();
            }
            from = Optional.of(cp);
            // The run's own arguments, so the continuation is the run that stopped; flags may still change some.
            args = TrainingArgumentsIO.override(TrainingArgumentsIO.read(cp.file(Trainer.ARGS_FILE)), flags, cp.file(Trainer.ARGS_FILE).toString());
        } else {
            if (name == null) name = LocalDateTime.now().format(RUN_NAME);
            runDir = runsRoot().resolve(project).resolve(name);
            if (new CheckpointStore(runDir).latest().isPresent()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "run " + runDir + " already has checkpoints; use --resume to continue it or another --name");
            }
            args = TrainingArgumentsIO.load(config, flags);
        }

        Progress progress = Progress.forConsole(System.out);
        progress.message("run " + project + "/" + runDir.getFileName() + " in " + runDir + from.map(c -> ", resuming from " + c.dir()).orElse(""));
        int resumeStep = from.map(Checkpoint::step).orElse(0);
        try (CpuBackend backend = new CpuBackend();
             JsonlMetricsSink metrics = JsonlMetricsSink.open(runDir.resolve(JsonlMetricsSink.FILE), resumeStep)) {
            TrainingJob.Spec job = new TrainingJob.Spec(base, base.toAbsolutePath().normalize().toString(), data, runDir, args, from, fromScratch);
            Trainer.Result result = TrainingJob.run(job, backend, new TrainingJob.Sinks(metrics, CheckpointSink.RUN_FOLDER_ONLY, progress),
                    TrainCommand::stopOnSignals);
            if (result.status() == Trainer.Status.INTERRUPTED) {
                System.err.println("interrupted at step " + result.globalStep() + "; resume with: pricer train --base " + base
                        + " --data " + data + " --resume " + result.lastCheckpoint().map(c -> c.dir().toString()).orElse(""));
                return EXIT_INTERRUPTED;
            }
            progress.message("done: " + result.globalStep() + " steps; final checkpoint " + result.lastCheckpoint().map(Checkpoint::dir).orElseThrow());
            return 0;
        } catch (TrainingDivergedException e) {
            System.err.println(e.getMessage());
            return EXIT_DIVERGED;
        }
    }

    private Path runsRoot() {
        Path root = home;
        if (root == null) {
            String env = System.getenv("PRICER_HOME");
            root = env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".pricer");
        }
        return root.resolve("runs");
    }

    /**
     * The first Ctrl-C (or TERM) asks for a checkpoint and a clean stop; a second one ends the process at once.
     * {@code sun.misc.Signal} (jdk.unsupported) is the only way to handle a signal without starting the JVM's
     * shutdown, which would leave no time to finish the step and write the checkpoint.
     */
    private static void stopOnSignals(Trainer trainer) {
        AtomicInteger signals = new AtomicInteger();
        for (String name : new String[]{"INT", "TERM"}) {
            Signal.handle(new Signal(name), s -> {
                if (signals.incrementAndGet() > 1) Runtime.getRuntime().halt(EXIT_INTERRUPTED);
                System.err.println("\nstopping after this step to save a checkpoint (press Ctrl-C again to quit at once)");
                trainer.requestStop();
            });
        }
    }
}
