package dev.pricer.train.loop;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pricer.core.model.Batch;
import dev.pricer.train.checkpoint.Checkpoint;
import dev.pricer.train.checkpoint.CheckpointPart;
import dev.pricer.train.checkpoint.CheckpointSink;
import dev.pricer.train.checkpoint.CheckpointStore;
import dev.pricer.train.checkpoint.TrainerState;
import dev.pricer.train.checkpoint.TrainingCard;
import dev.pricer.train.config.TrainingArguments;
import dev.pricer.train.config.TrainingArgumentsIO;
import dev.pricer.train.data.BatchSource;
import dev.pricer.train.metrics.MetricsSink;
import dev.pricer.train.progress.Progress;
import dev.pricer.train.schedule.LrSchedule;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The training loop, as Hugging Face's Trainer runs it: each optimizer step takes
 * {@code gradient_accumulation_steps} micro-batches in the seeded data order (fewer at the end of an epoch),
 * normalises the loss by the label tokens of the whole step (transformers ≥ 4.46), clips the global gradient
 * norm, and applies AdamW at the scheduled learning rate. It logs, evaluates and checkpoints on the
 * configured steps, refuses to step on a non-finite loss, and stops cleanly (with a checkpoint) when asked.
 *
 * <p>Everything the step sequence depends on is a function of the arguments, the data and the step number,
 * so a run resumed from a checkpoint produces exactly the numbers of one that was never interrupted.
 */
public final class Trainer {

    public enum Status { COMPLETED, INTERRUPTED }

    public record Result(Status status, int globalStep, int totalSteps, Optional<Checkpoint> lastCheckpoint,
                         List<Map<String, Object>> logHistory) {
    }

    /** Everything a run reads and writes besides the model. */
    public record Io(CheckpointStore checkpoints, CheckpointSink sink, MetricsSink metrics, Progress progress) {
    }

    public static final String ARGS_FILE = "training_args.yaml";
    public static final String SCHEDULER_FILE = "scheduler.json";
    public static final String RNG_FILE = "rng_state.json";
    /** Logged with the training metrics where the backend has device memory (the GPU), as W&B logs system metrics. */
    public static final String PEAK_MEMORY_METRIC = "system/peak_gpu_memory_gib";
    private static final double GIB = 1L << 30;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final TrainingArguments args;
    private final Trainable model;
    private final BatchSource train;
    private final BatchSource validation;
    private final Io io;
    private volatile boolean stopRequested;

    /** {@code validation} may be null (no evaluation). */
    public Trainer(TrainingArguments args, Trainable model, BatchSource train, BatchSource validation, Io io) {
        this.args = args;
        this.model = model;
        this.train = train;
        this.validation = validation;
        this.io = io;
    }

    /** Asks the loop to save a checkpoint and return after the step in progress (Ctrl-C). */
    public void requestStop() {
        stopRequested = true;
    }

    public int totalSteps() {
        return args.totalSteps(train.microBatchesPerEpoch());
    }

    public Result train(Optional<Checkpoint> resumeFrom) throws IOException {
        int microPerEpoch = train.microBatchesPerEpoch();
        int accum = args.gradientAccumulationSteps();
        int stepsPerEpoch = stepsPerEpoch();
        LrSchedule schedule;
        int start;
        List<Map<String, Object>> history = new ArrayList<>();
        if (resumeFrom.isPresent()) {
            Checkpoint cp = resumeFrom.get();
            TrainerState state = TrainerState.read(cp.file(TrainerState.FILE));
            checkResumable(cp, state);
            List<Integer> later = io.checkpoints().list().stream().map(Checkpoint::step).filter(s -> s > cp.step()).toList();
            if (!later.isEmpty()) {
                throw new IllegalArgumentException("cannot resume from " + cp.dir() + ": " + io.checkpoints().runDir() + " already has later checkpoints "
                        + later + "; resume from the latest, or move the later ones away");
            }
            schedule = JSON.readValue(cp.file(SCHEDULER_FILE).toFile(), LrSchedule.class);
            model.restore(cp);
            start = state.globalStep();
            history.addAll(state.logHistory());
        } else {
            int total = totalSteps();
            schedule = new LrSchedule(args.lrSchedulerType(), args.learningRate(), args.warmupStepsFor(total), total);
            start = 0;
        }
        int total = schedule.totalSteps();
        Optional<Checkpoint> last = resumeFrom;
        io.progress().start(start, total);

        LogWindow window = new LogWindow();
        long startClock = System.nanoTime();
        for (int step = start; step < total; step++) {
            if (stopRequested) {
                last = Optional.of(save(step, schedule, history, false, last));
                io.progress().message("stopped at step " + step + "; saved " + last.get().dir());
                io.progress().finish();
                return new Result(Status.INTERRUPTED, step, total, last, List.copyOf(history));
            }
            int epoch = step / stepsPerEpoch, inEpoch = step % stepsPerEpoch;
            double lr = schedule.lr(step);
            StepResult r = optimizerStep(step, epoch, inEpoch * accum, Math.min((inEpoch + 1) * accum, microPerEpoch), lr);
            if (!Double.isFinite(r.loss()) || !Double.isFinite(r.gradNorm())) {
                io.progress().finish();
                throw new TrainingDivergedException("training stopped at step " + (step + 1) + " of " + total
                        + ": the loss is " + r.loss() + " and the gradient norm " + r.gradNorm() + "; the parameters were not updated. "
                        + last.map(c -> "The last good checkpoint is " + c.dir() + ".").orElse("No checkpoint had been saved yet.")
                        + " Lower learning_rate or max_grad_norm, or check the data.");
            }
            int done = step + 1;
            double epochProgress = epoch + (double) (inEpoch + 1) / stepsPerEpoch;
            window.add(r);
            boolean logNow = done % args.loggingSteps() == 0 || done == total;
            double shownLoss = logNow ? window.meanLoss() : r.loss();
            if (logNow) {
                Map<String, Double> m = new LinkedHashMap<>();
                m.put("train/loss", shownLoss);
                m.put("train/learning_rate", lr);
                m.put("train/grad_norm", r.gradNorm());
                m.put("train/epoch", epochProgress);
                m.put("train/tokens_per_second", window.tokensPerSecond());
                model.peakDeviceMemoryBytes().ifPresent(bytes -> m.put(PEAK_MEMORY_METRIC, bytes / GIB));
                record(done, m, history);
                window.reset();
            }
            boolean epochEnd = inEpoch == stepsPerEpoch - 1;
            if (validation != null && (done % args.evalEvery() == 0 || epochEnd || done == total)) {
                double evalLoss = evaluate();
                Map<String, Double> m = new LinkedHashMap<>();
                m.put("eval/loss", evalLoss);
                m.put("train/epoch", epochProgress);
                record(done, m, history);
                io.progress().message("step %d: eval/loss %.4f".formatted(done, evalLoss));
            }
            io.progress().step(new Progress.Report(done, total, epochProgress, shownLoss, lr, window.tokensPerSecond(),
                    (System.nanoTime() - startClock) / 1e9, logNow));
            if (done % args.saveSteps() == 0 || done == total) {
                last = Optional.of(save(done, schedule, history, done == total, last));
                io.progress().message("saved " + last.get().dir());
            }
        }
        model.peakDeviceMemoryBytes().ifPresent(bytes -> io.progress().message("peak GPU memory %.2f GiB".formatted(bytes / GIB)));
        io.progress().finish();
        return new Result(Status.COMPLETED, total, total, last, List.copyOf(history));
    }

    private record StepResult(double loss, double gradNorm, long tokens) {
    }

    /**
     * One optimizer step over micro-batches {@code [from, to)} of {@code epoch}: the gradient of
     * Σ CE / (label tokens of the whole step), its norm, clipping, AdamW. A non-finite loss or norm returns
     * before the update, leaving the parameters as they were.
     */
    private StepResult optimizerStep(int step, int epoch, int from, int to, double lr) {
        Batch[] batches = new Batch[to - from];
        long labelTokens = 0, tokens = 0;
        for (int i = 0; i < batches.length; i++) {
            batches[i] = train.microBatch(epoch, from + i);
            labelTokens += batches[i].labelTokens();
            for (int len : batches[i].validLengths()) tokens += len;
        }
        model.zeroGradients();
        float gradScale = labelTokens == 0 ? 0f : 1f / labelTokens;
        double lossSum = 0;
        for (int i = 0; i < batches.length; i++) {
            lossSum += model.accumulateGradients(batches[i], gradScale, dropoutSeed(args.seed(), step, i));
        }
        double loss = labelTokens == 0 ? 0.0 : lossSum / labelTokens;
        double norm = model.gradientNorm();
        if (Double.isFinite(loss) && Double.isFinite(norm)) {
            // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1
            double clip = args.maxGradNorm() > 0 ? Math.min(1.0, args.maxGradNorm() / (norm + 1e-6)) : 1.0;
            model.optimizerStep(lr, clip, step + 1);
        }
        return new StepResult(loss, norm, tokens);
    }

    /** The steps since the last log line: HF logs their mean loss; tokens/s is over the same wall time. */
    private static final class LogWindow {
        private double lossSum;
        private int steps;
        private long tokens;
        private long since = System.nanoTime();
        private double tokensPerSecond;

        void add(StepResult r) {
            lossSum += r.loss();
            steps++;
            tokens += r.tokens();
            tokensPerSecond = tokens / Math.max(1e-9, (System.nanoTime() - since) / 1e9);
        }

        double meanLoss() {
            return lossSum / steps;
        }

        /** Over the window so far; after a reset, the last window's, until the next step. */
        double tokensPerSecond() {
            return tokensPerSecond;
        }

        void reset() {
            lossSum = 0;
            steps = 0;
            tokens = 0;
            since = System.nanoTime();
        }
    }

    /** Mean cross-entropy per label token over the whole validation set. */
    public double evaluate() {
        double sum = 0;
        long tokens = 0;
        for (int i = 0; i < validation.microBatchesPerEpoch(); i++) {
            Batch b = validation.microBatch(0, i);
            sum += model.loss(b);
            tokens += b.labelTokens();
        }
        return tokens == 0 ? Double.NaN : sum / tokens;
    }

    private void record(int step, Map<String, Double> metrics, List<Map<String, Object>> history) throws IOException {
        io.metrics().log(step, metrics);
        Map<String, Object> entry = new LinkedHashMap<>();
        metrics.forEach((k, v) -> entry.put(hfKey(k), v));
        entry.put("step", step);
        history.add(entry);
    }

    /** {@code train/loss} is {@code loss} and {@code eval/loss} is {@code eval_loss} in HF's log history. */
    private static String hfKey(String metric) {
        if (metric.startsWith("train/")) return metric.substring("train/".length());
        if (metric.startsWith("eval/")) return "eval_" + metric.substring("eval/".length());
        return metric;
    }

    private Checkpoint save(int step, LrSchedule schedule, List<Map<String, Object>> history, boolean finalSave,
                            Optional<Checkpoint> previous) throws IOException {
        if (previous.isPresent() && previous.get().step() == step) return previous.get();
        TrainerState state = new TrainerState(step, (double) step / stepsPerEpoch(), schedule.totalSteps(),
                args.numTrainEpochs(), args.loggingSteps(), args.evalEvery(), args.saveSteps(), args.perDeviceTrainBatchSize(),
                history, position(step), train.fingerprint(), train.examples());
        List<CheckpointPart> files = new ArrayList<>(model.checkpointParts());
        files.add(CheckpointPart.file(TrainerState.FILE, state::write));
        files.add(CheckpointPart.file(TrainingCard.FILE, f -> TrainingCard.write(f, model.describe(), args, state)));
        files.add(CheckpointPart.file(ARGS_FILE, f -> TrainingArgumentsIO.write(args, f)));
        files.add(CheckpointPart.file(SCHEDULER_FILE, f -> JSON.writeValue(f.toFile(), schedule)));
        files.add(CheckpointPart.file(RNG_FILE, f -> JSON.writeValue(f.toFile(), rngState())));
        Checkpoint cp = io.checkpoints().write(step, files);
        io.sink().publish(cp, finalSave);
        if (args.saveTotalLimit() != null) io.checkpoints().prune(args.saveTotalLimit());
        return cp;
    }

    /** Where in the data order step {@code step} (0-based, the next to run) begins. */
    private TrainerState.DataPosition position(int step) {
        return new TrainerState.DataPosition(step / stepsPerEpoch(), (step % stepsPerEpoch()) * args.gradientAccumulationSteps());
    }

    /** Optimizer steps per epoch: the last one takes the micro-batches left over, as HF's Trainer does. */
    private int stepsPerEpoch() {
        return Math.ceilDiv(train.microBatchesPerEpoch(), args.gradientAccumulationSteps());
    }

    /**
     * There is no hidden generator to snapshot: the data order is drawn from {@code seed + epoch} and dropout
     * from {@code (seed, step, micro-batch)}; this file says so, with the seed.
     */
    private Map<String, Object> rngState() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seed", args.seed());
        m.put("data_order", "SplittableRandom(seed + epoch), Fisher-Yates");
        m.put("dropout", "counter-based hash of (seed, step, micro_batch)");
        return m;
    }

    private void checkResumable(Checkpoint cp, TrainerState state) {
        TrainingArguments saved = TrainingArgumentsIO.read(cp.file(ARGS_FILE));
        List<String> changed = new ArrayList<>();
        if (saved.perDeviceTrainBatchSize() != args.perDeviceTrainBatchSize()) changed.add("per_device_train_batch_size");
        if (saved.gradientAccumulationSteps() != args.gradientAccumulationSteps()) changed.add("gradient_accumulation_steps");
        if (saved.seed() != args.seed()) changed.add("seed");
        if (saved.groupByLength() != args.groupByLength()) changed.add("group_by_length");
        if (saved.maxSeqLength() != args.maxSeqLength()) changed.add("max_seq_length");
        if (!saved.responseTemplate().equals(args.responseTemplate())) changed.add("response_template");
        if (saved.usePeft() != args.usePeft()) changed.add("use_peft");
        if (!changed.isEmpty()) {
            throw new IllegalArgumentException("cannot resume from " + cp.dir() + ": " + String.join(", ", changed)
                    + " differ from the checkpoint's " + ARGS_FILE + ", so the data order would not continue where it stopped");
        }
        if (!state.dataPosition().equals(position(state.globalStep()))) {
            throw new IllegalArgumentException("cannot resume from " + cp.dir() + ": its data position " + state.dataPosition()
                    + " does not follow from global_step " + state.globalStep() + " (" + position(state.globalStep()) + " expected)");
        }
        if (state.trainExamples() != train.examples() || !state.dataFingerprint().equals(train.fingerprint())) {
            throw new IllegalArgumentException("cannot resume from " + cp.dir() + ": the training data differ from the run's ("
                    + state.trainExamples() + " examples, fingerprint " + state.dataFingerprint() + "; now " + train.examples()
                    + " examples, fingerprint " + train.fingerprint() + ")");
        }
    }

    static long dropoutSeed(long seed, int step, int microBatch) {
        long z = seed * 0x9E3779B97F4A7C15L + ((long) step << 20) + microBatch;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
