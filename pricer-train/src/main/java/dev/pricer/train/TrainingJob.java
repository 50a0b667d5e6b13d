package dev.pricer.train;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.lora.BaseModelRef;
import dev.pricer.core.model.LlamaModel;
import dev.pricer.core.tokenizer.Tokenizer;
import dev.pricer.train.checkpoint.Checkpoint;
import dev.pricer.train.checkpoint.CheckpointSink;
import dev.pricer.train.checkpoint.CheckpointStore;
import dev.pricer.train.config.TrainingArguments;
import dev.pricer.train.config.TrainingArgumentsIO;
import dev.pricer.train.data.BatchSource;
import dev.pricer.train.data.CompletionCollator;
import dev.pricer.train.data.EncodedDataset;
import dev.pricer.train.data.ExamplesFile;
import dev.pricer.train.data.SequentialBatches;
import dev.pricer.train.data.ShuffledBatches;
import dev.pricer.train.engine.LlamaTrainable;
import dev.pricer.train.loop.Trainer;
import dev.pricer.train.metrics.MetricsSink;
import dev.pricer.train.progress.Progress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One training run from files: a Hugging Face model folder, a JSON-lines data file and the arguments, into a
 * run folder. Tokenizes and splits the data, builds the model (a fresh LoRA adapter, or every weight), and
 * hands everything to the {@link Trainer}. Where metrics and checkpoints go beyond the run folder is the
 * caller's choice, through the sinks.
 */
public final class TrainingJob {

    /**
     * {@code resume} is empty for a new run. With {@code fromScratch}, the base folder gives only the
     * architecture ({@code config.json}) and the tokenizer; every weight starts random and is trained.
     */
    public record Spec(Path base, BaseModelRef baseModel, Path data, Path runDir, TrainingArguments args, Optional<Checkpoint> resume,
                       boolean fromScratch) {

        public Spec {
            if (fromScratch && args.usePeft()) throw new IllegalArgumentException("training from scratch trains every weight: set use_peft to false");
        }
    }

    /** Standard deviation of the random initial weights from scratch, as transformers' Llama initializer_range. */
    public static final double INIT_STD = 0.02;

    public record Sinks(MetricsSink metrics, CheckpointSink checkpoints, Progress progress) {
    }

    private TrainingJob() {
    }

    /** Runs the job; {@code started} gets the trainer before the first step (to wire Ctrl-C to {@link Trainer#requestStop}). */
    public static Trainer.Result run(Spec spec, Backend backend, Sinks sinks, Consumer<Trainer> started) throws IOException {
        TrainingArguments args = spec.args();
        LlamaConfig config = LlamaConfig.read(spec.base());
        int padId = config.eosTokenIds().isEmpty() ? 0 : config.eosTokenIds().getFirst();
        EncodedDataset train;
        EncodedDataset validation;
        try (Tokenizer tokenizer = Tokenizer.load(spec.base())) {
            CompletionCollator collator = new CompletionCollator(tokenizer, args.responseTemplate(), args.maxSeqLength());
            EncodedDataset all = encode(collator, spec.data(), sinks.progress(), args);
            if (args.validationFile() != null) {
                train = all;
                validation = encode(collator, Path.of(args.validationFile()), sinks.progress(), args);
            } else {
                EncodedDataset.Split split = all.split(args.validationSplitPercentage(), args.seed());
                train = split.train();
                validation = split.validation();
            }
        }
        sinks.progress().message("training on %d examples, evaluating on %d".formatted(train.size(), validation == null ? 0 : validation.size()));
        Files.createDirectories(spec.runDir());
        TrainingArgumentsIO.write(args, spec.runDir().resolve(Trainer.ARGS_FILE));

        BatchSource trainBatches = new ShuffledBatches(train, padId, args.perDeviceTrainBatchSize(), args.seed(), args.groupByLength());
        BatchSource evalBatches = validation == null ? null : new SequentialBatches(validation, padId, args.perDeviceEvalBatchSize());
        try (LlamaTrainable model = new LlamaTrainable(load(spec, config, backend), args, spec.baseModel())) {
            Trainer trainer = new Trainer(args, model, trainBatches, evalBatches,
                    new Trainer.Io(new CheckpointStore(spec.runDir()), sinks.checkpoints(), sinks.metrics(), sinks.progress()));
            started.accept(trainer);
            return trainer.train(spec.resume());
        }
    }

    private static LlamaModel load(Spec spec, LlamaConfig config, Backend backend) {
        TrainingArguments args = spec.args();
        if (!args.usePeft()) {
            // A resumed full run loads the checkpoint, itself a model folder (the base may hold no weights at all).
            LlamaModel model = spec.resume().isPresent() ? LlamaModel.loadForFullTraining(spec.resume().get().dir(), backend)
                    : spec.fromScratch() ? LlamaModel.initialize(config, backend, INIT_STD, args.seed(), true)
                    : LlamaModel.loadForFullTraining(spec.base(), backend);
            model.setGradientCheckpointing(args.gradientCheckpointing());
            return model;
        }
        LlamaModel model = LlamaModel.load(spec.base(), null, backend, args.quantization());
        try {
            model.setGradientCheckpointing(args.gradientCheckpointing());
            model.createAdapter(args.loraConfig(), args.seed());
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return model;
    }

    private static EncodedDataset encode(CompletionCollator collator, Path file, Progress progress, TrainingArguments args) {
        EncodedDataset data = collator.encode(ExamplesFile.read(file));
        progress.message("%s: %d examples, %d cut to max_seq_length %d, %d without the response template '%s'".formatted(
                file, data.size(), data.truncated(), args.maxSeqLength(), data.withoutTemplate(), args.responseTemplate()));
        return data;
    }
}
