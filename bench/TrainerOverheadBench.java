import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.config.RopeScaling;
import dev.pricer.core.model.Batch;
import dev.pricer.core.model.LlamaModel;
import dev.pricer.train.checkpoint.Checkpoint;
import dev.pricer.train.checkpoint.CheckpointPart;
import dev.pricer.train.checkpoint.TrainingCard;
import dev.pricer.train.checkpoint.CheckpointSink;
import dev.pricer.train.checkpoint.CheckpointStore;
import dev.pricer.train.config.TrainingArguments;
import dev.pricer.train.config.TrainingArgumentsIO;
import dev.pricer.train.data.EncodedDataset;
import dev.pricer.train.data.ShuffledBatches;
import dev.pricer.train.engine.LlamaTrainable;
import dev.pricer.train.loop.Trainable;
import dev.pricer.train.loop.Trainer;
import dev.pricer.train.metrics.JsonlMetricsSink;
import dev.pricer.train.progress.Progress;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * The trainer's per-step overhead at the engine benchmark's shape (hidden 512, 8 layers, 8 heads, 4 KV heads,
 * vocab 128256, sequence 182, batch 4, LoRA r 32 on q, k, v, o; 5 label tokens per sequence): the real loop
 * (shuffled data order, collation, loss normalisation, clipping, AdamW, JSONL metrics and progress lines at
 * every step) with the model's calls timed. What is not inside a model call is the loop's own overhead.
 *
 *     java --add-modules jdk.incubator.vector -cp CLASSPATH bench/TrainerOverheadBench.java STEPS
 */
void main(String[] argv) throws Exception {
    int steps = Integer.parseInt(argv[0]);
    int warmup = 2, batchSize = 4, seqLen = 182, labels = 5, examples = 64;
    LlamaConfig config = new LlamaConfig(128256, 512, 2048, 8, 8, 4, 64, 1e-5, 500000,
            new RopeScaling.Llama3(32, 1, 4, 8192), 131072, true, 1, List.of(2));
    TrainingArguments args = TrainingArgumentsIO.load(null, Map.ofEntries(Map.entry("per_device_train_batch_size", "" + batchSize),
            Map.entry("max_steps", "" + (warmup + steps + 1)), Map.entry("logging_steps", "1"), Map.entry("save_steps", "1000000"),
            Map.entry("learning_rate", "1e-4"), Map.entry("lr_scheduler_type", "cosine"), Map.entry("warmup_steps", "1"),
            Map.entry("lora_r", "32"), Map.entry("lora_alpha", "64"), Map.entry("lora_dropout", "0"),
            Map.entry("lora_target_modules", "q_proj,k_proj,v_proj,o_proj")));
    SplittableRandom random = new SplittableRandom(0);
    int[] tokens = new int[examples * seqLen], offsets = new int[examples + 1], masked = new int[examples];
    for (int i = 0; i < tokens.length; i++) tokens[i] = 3 + random.nextInt(config.vocabSize() - 3);
    for (int e = 0; e < examples; e++) {
        offsets[e + 1] = offsets[e] + seqLen;
        masked[e] = seqLen - labels;
    }
    var data = new ShuffledBatches(new EncodedDataset(tokens, offsets, masked, 0, 0), 0, batchSize, args.seed(), false);
    Path run = Files.createTempDirectory("trainer-overhead");
    var backend = new CpuBackend();
    LlamaModel model = LlamaModel.initialize(config, backend, 0.02, 1, false);
    model.createAdapter(args.loraConfig(), 2);
    try (var timed = new Timed(new LlamaTrainable(model, args, "bench"));
         var metrics = JsonlMetricsSink.open(run.resolve(JsonlMetricsSink.FILE), 0)) {
        Trainer trainer = new Trainer(args, timed, data, null,
                new Trainer.Io(new CheckpointStore(run), CheckpointSink.RUN_FOLDER_ONLY, metrics, new Progress.Lines(System.err)));
        trainer.train(Optional.empty());
        // windows from the start of step warmup+1 to the start of the last step: whole steps, each with its logging
        int from = warmup, to = warmup + steps;
        double wall = (timed.stepStarts.get(to) - timed.stepStarts.get(from)) / 1e9;
        double fb = timed.sum(timed.forwardBackward, from, to) / 1e9, opt = timed.sum(timed.optimizer, from, to) / 1e9;
        double other = wall - fb - opt;
        System.out.printf("# java %s, %d cores; %d steps after %d warm-up steps%n", Runtime.version(), Runtime.getRuntime().availableProcessors(), steps, warmup);
        System.out.printf("step %.3f s: forward+backward %.3f s (%.1f%%), gradient norm + clip + AdamW + zero %.4f s (%.2f%%), "
                        + "everything else (data order, collation, loss normalisation, metrics, progress) %.4f s (%.2f%%)%n",
                wall / steps, fb / steps, 100 * fb / wall, opt / steps, 100 * opt / wall, other / steps, 100 * other / wall);
        System.out.printf("overhead outside forward+backward: %.2f%% of step time (target < 5%%)%n", 100 * (opt + other) / wall);
    }
}

/** Times each call into the model; steps start at {@code zeroGradients}. */
final class Timed implements Trainable {
    final Trainable inner;
    final List<Long> stepStarts = new ArrayList<>();
    final List<Long> forwardBackward = new ArrayList<>();
    final List<Long> optimizer = new ArrayList<>();

    Timed(Trainable inner) {
        this.inner = inner;
    }

    long sum(List<Long> perStep, int from, int to) {
        long s = 0;
        for (int i = from; i < to; i++) s += perStep.get(i);
        return s;
    }

    private void add(List<Long> perStep, long nanos) {
        perStep.set(perStep.size() - 1, perStep.getLast() + nanos);
    }

    public double accumulateGradients(Batch batch, float gradScale, long dropoutSeed) {
        long t = System.nanoTime();
        double r = inner.accumulateGradients(batch, gradScale, dropoutSeed);
        add(forwardBackward, System.nanoTime() - t);
        return r;
    }

    public double loss(Batch batch) {
        return inner.loss(batch);
    }

    public void zeroGradients() {
        long t = System.nanoTime();
        stepStarts.add(t);
        forwardBackward.add(0L);
        optimizer.add(0L);
        inner.zeroGradients();
        add(optimizer, System.nanoTime() - t);
    }

    public double gradientNorm() {
        long t = System.nanoTime();
        double r = inner.gradientNorm();
        add(optimizer, System.nanoTime() - t);
        return r;
    }

    public void optimizerStep(double lr, double mult, int step) {
        long t = System.nanoTime();
        inner.optimizerStep(lr, mult, step);
        add(optimizer, System.nanoTime() - t);
    }

    public List<CheckpointPart> checkpointParts() {
        return inner.checkpointParts();
    }

    public TrainingCard.Model describe() {
        return inner.describe();
    }

    public void restore(Checkpoint checkpoint) {
        inner.restore(checkpoint);
    }

    public void close() {
        inner.close();
    }
}
