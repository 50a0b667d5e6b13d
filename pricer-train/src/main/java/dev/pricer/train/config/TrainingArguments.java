package dev.pricer.train.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.pricer.core.lora.LoraConfig;
import dev.pricer.core.model.Quantization;

import java.util.List;

/**
 * Everything a training run is configured by, under the names (and, where they exist, the defaults) of
 * Hugging Face's {@code TrainingArguments}, TRL's {@code SFTConfig}/{@code ModelConfig} and the
 * {@code run_clm} example, so a notebook's settings carry over as they are. {@link TrainingArgumentsIO}
 * reads them from YAML and flags; every checkpoint saves them.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record TrainingArguments(
        @JsonPropertyDescription("passes over the training data; a fraction stops part-way through the last one")
        double numTrainEpochs,
        @JsonPropertyDescription("optimizer steps to run; -1 derives them from num_train_epochs")
        int maxSteps,
        @JsonPropertyDescription("examples in one micro-batch")
        int perDeviceTrainBatchSize,
        @JsonPropertyDescription("examples in one evaluation batch")
        int perDeviceEvalBatchSize,
        @JsonPropertyDescription("micro-batches whose gradients add up to one optimizer step")
        int gradientAccumulationSteps,
        @JsonPropertyDescription("peak learning rate of AdamW")
        double learningRate,
        @JsonPropertyDescription("cosine, linear, constant or constant_with_warmup")
        LrSchedulerType lrSchedulerType,
        @JsonPropertyDescription("warmup as a fraction of all steps (used when warmup_steps is 0)")
        double warmupRatio,
        @JsonPropertyDescription("warmup steps; overrides warmup_ratio when above 0")
        int warmupSteps,
        @JsonPropertyDescription("AdamW's decoupled weight decay")
        double weightDecay,
        @JsonPropertyDescription("AdamW beta1")
        double adamBeta1,
        @JsonPropertyDescription("AdamW beta2")
        double adamBeta2,
        @JsonPropertyDescription("AdamW epsilon")
        double adamEpsilon,
        @JsonPropertyDescription("clip the global gradient norm to this; 0 turns clipping off")
        double maxGradNorm,
        @JsonPropertyDescription("seed of the data order and of dropout")
        long seed,
        @JsonPropertyDescription("tokens per example; longer examples are cut and counted")
        int maxSeqLength,
        @JsonPropertyDescription("log training metrics every this many steps")
        int loggingSteps,
        @JsonPropertyDescription("evaluate every this many steps; unset means logging_steps")
        Integer evalSteps,
        @JsonPropertyDescription("save a checkpoint every this many steps")
        int saveSteps,
        @JsonPropertyDescription("keep at most this many local checkpoints; unset keeps all")
        Integer saveTotalLimit,
        @JsonPropertyDescription("batch examples of similar length together (still shuffled)")
        boolean groupByLength,
        @JsonPropertyDescription("labels up to and including this text are masked out of the loss")
        String responseTemplate,
        @JsonPropertyDescription("a file of validation examples; without one, a split of the training data")
        String validationFile,
        @JsonPropertyDescription("percent of the training data held out for validation when there is no validation_file")
        double validationSplitPercentage,
        @JsonPropertyDescription("train a LoRA adapter; false trains every parameter of the model")
        boolean usePeft,
        @JsonPropertyDescription("LoRA rank")
        int loraR,
        @JsonPropertyDescription("LoRA alpha; the scaling is alpha/r (alpha/sqrt(r) with use_rslora)")
        double loraAlpha,
        @JsonPropertyDescription("dropout on the LoRA input while training")
        double loraDropout,
        @JsonPropertyDescription("projections that get an adapter, e.g. q_proj,k_proj,v_proj,o_proj")
        List<String> loraTargetModules,
        @JsonPropertyDescription("scale LoRA by alpha/sqrt(r)")
        boolean useRslora,
        @JsonPropertyDescription("nf4 holds the base's decoder projections in 4-bit NormalFloat with double quantization (QLoRA, as bitsandbytes' load_in_4bit); none keeps them as loaded")
        String quantize,
        @JsonPropertyDescription("keep only each decoder layer's input through the forward pass and recompute the layer in the backward pass: much less activation memory for about one more forward pass")
        boolean gradientCheckpointing,
        @JsonPropertyDescription("what each save commits to the hub: every_save (the model, its card and the trainer state), checkpoint (also the optimizer, scheduler and random state, to resume from) or end (only the last save)")
        String hubStrategy,
        @JsonPropertyDescription("create the run's hub repository private, readable by members of its namespace only")
        boolean hubPrivateRepo,
        @JsonPropertyDescription("the dataset repository the examples come from, owner/name (set by --data datasets/owner/name); the model card names it")
        String datasetName) {

    public TrainingArguments {
        positive("per_device_train_batch_size", perDeviceTrainBatchSize);
        positive("per_device_eval_batch_size", perDeviceEvalBatchSize);
        positive("gradient_accumulation_steps", gradientAccumulationSteps);
        positive("max_seq_length", maxSeqLength);
        positive("logging_steps", loggingSteps);
        positive("save_steps", saveSteps);
        if (evalSteps != null) positive("eval_steps", evalSteps);
        if (saveTotalLimit != null) positive("save_total_limit", saveTotalLimit);
        if (maxSteps == 0 || maxSteps < -1) throw invalid("max_steps", maxSteps, "must be -1 or at least 1");
        if (maxSteps == -1 && !(numTrainEpochs > 0)) throw invalid("num_train_epochs", numTrainEpochs, "must be above 0");
        if (!(learningRate >= 0) || Double.isInfinite(learningRate)) throw invalid("learning_rate", learningRate, "must be a finite number, at least 0");
        if (lrSchedulerType == null) throw invalid("lr_scheduler_type", null, "must be one of " + LrSchedulerType.names());
        if (!(warmupRatio >= 0 && warmupRatio <= 1)) throw invalid("warmup_ratio", warmupRatio, "must be in [0, 1]");
        if (warmupSteps < 0) throw invalid("warmup_steps", warmupSteps, "must be at least 0");
        if (!(weightDecay >= 0)) throw invalid("weight_decay", weightDecay, "must be at least 0");
        if (!(adamBeta1 >= 0 && adamBeta1 < 1)) throw invalid("adam_beta1", adamBeta1, "must be in [0, 1)");
        if (!(adamBeta2 >= 0 && adamBeta2 < 1)) throw invalid("adam_beta2", adamBeta2, "must be in [0, 1)");
        if (!(adamEpsilon > 0)) throw invalid("adam_epsilon", adamEpsilon, "must be above 0");
        if (!(maxGradNorm >= 0)) throw invalid("max_grad_norm", maxGradNorm, "must be at least 0");
        if (responseTemplate == null || responseTemplate.isEmpty()) throw invalid("response_template", responseTemplate, "must not be empty");
        if (!(validationSplitPercentage >= 0 && validationSplitPercentage < 100)) throw invalid("validation_split_percentage", validationSplitPercentage, "must be in [0, 100)");
        positive("lora_r", loraR);
        if (!(loraAlpha > 0)) throw invalid("lora_alpha", loraAlpha, "must be above 0");
        if (!(loraDropout >= 0 && loraDropout < 1)) throw invalid("lora_dropout", loraDropout, "must be in [0, 1)");
        if (loraTargetModules == null || loraTargetModules.isEmpty()) throw invalid("lora_target_modules", loraTargetModules, "must name at least one of " + LoraConfig.ALL_PROJECTIONS);
        for (String m : loraTargetModules) {
            if (!LoraConfig.ALL_PROJECTIONS.contains(m)) throw invalid("lora_target_modules", m, "is not one of " + LoraConfig.ALL_PROJECTIONS);
        }
        loraTargetModules = List.copyOf(loraTargetModules);
        quantize = Quantization.parse(quantize).flagName();
        // Arguments saved before hub_strategy existed read as the default.
        if (hubStrategy == null) hubStrategy = HUB_EVERY_SAVE;
        if (!HUB_STRATEGIES.contains(hubStrategy)) throw invalid("hub_strategy", hubStrategy, "must be one of " + HUB_STRATEGIES);
        if (!usePeft && quantize.equals("nf4")) {
            throw invalid("quantize", quantize, "needs use_peft: a quantized base is frozen, so full-parameter training cannot use it (train a LoRA adapter, QLoRA)");
        }
    }

    /** Hugging Face's {@code hub_strategy} values that apply to commits: every_save, checkpoint, end. */
    public static final String HUB_EVERY_SAVE = "every_save", HUB_CHECKPOINT = "checkpoint", HUB_END = "end";
    private static final List<String> HUB_STRATEGIES = List.of(HUB_EVERY_SAVE, HUB_CHECKPOINT, HUB_END);

    /** Hugging Face's defaults; where HF has none, TRL's (LoRA) or PEFT's Llama targets. */
    public static TrainingArguments defaults() {
        return new TrainingArguments(3.0, -1, 8, 8, 1, 5e-5, LrSchedulerType.LINEAR, 0.0, 0, 0.0,
                0.9, 0.999, 1e-8, 1.0, 42, 1024, 500, null, 500, null, false, "Price is $", null, 5.0,
                true, 16, 32.0, 0.05, List.of("q_proj", "v_proj"), false, "none", false, HUB_EVERY_SAVE, false, null);
    }

    public int evalEvery() {
        return evalSteps != null ? evalSteps : loggingSteps;
    }

    /** HF's {@code get_warmup_steps}: explicit steps win, otherwise the ratio rounded up. */
    public int warmupStepsFor(int totalSteps) {
        return warmupSteps > 0 ? warmupSteps : (int) Math.ceil(totalSteps * warmupRatio);
    }

    /** HF's optimizer-step count: micro-batches per epoch rounded up to whole steps, times the epochs. */
    public int totalSteps(int microBatchesPerEpoch) {
        if (maxSteps > 0) return maxSteps;
        int perEpoch = Math.max(1, Math.ceilDiv(microBatchesPerEpoch, gradientAccumulationSteps));
        return Math.max(1, (int) Math.ceil(numTrainEpochs * perEpoch));
    }

    /** How the base model's weights are held. */
    public Quantization quantization() {
        return Quantization.parse(quantize);
    }

    /** The adapter these arguments describe, in the engine's terms. */
    public LoraConfig loraConfig() {
        return new LoraConfig(loraR, loraAlpha, loraDropout, loraTargetModules, useRslora);
    }

    private static void positive(String field, int value) {
        if (value < 1) throw invalid(field, value, "must be at least 1");
    }

    private static IllegalArgumentException invalid(String field, Object value, String rule) {
        return new IllegalArgumentException(field + " = " + value + ": " + rule);
    }
}
