package dev.pricer.train.engine;

import dev.pricer.core.backend.AdamW;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.lora.BaseModelRef;
import dev.pricer.core.lora.PeftAdapter;
import dev.pricer.core.model.Batch;
import dev.pricer.core.model.LlamaModel;
import dev.pricer.core.model.Parameter;
import dev.pricer.core.model.Quantization;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.safetensors.SafeTensorsWriter;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;
import dev.pricer.train.checkpoint.Checkpoint;
import dev.pricer.train.checkpoint.CheckpointPart;
import dev.pricer.train.checkpoint.TrainingCard;
import dev.pricer.train.config.TrainingArguments;
import dev.pricer.train.loop.Trainable;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * The engine's Llama model as the loop's {@link Trainable}: LoRA parameters (or every weight, in full
 * training) with AdamW moments kept beside them on the same backend. Checkpoints hold the adapter in PEFT's
 * format (or the weights as an HF {@code model.safetensors}) and the moments in {@code optimizer.safetensors}.
 */
public final class LlamaTrainable implements Trainable {

    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    public static final String FULL_WEIGHTS = "model.safetensors";
    public static final String FULL_CONFIG = "config.json";

    private final LlamaModel model;
    private final Backend backend;
    private final TrainingArguments args;
    private final BaseModelRef baseModel;
    private final Map<String, Buffer> m = new LinkedHashMap<>();
    private final Map<String, Buffer> v = new LinkedHashMap<>();

    /** {@code baseModel} goes into {@code adapter_config.json}, as PEFT's {@code base_model_name_or_path} and {@code revision}. */
    public LlamaTrainable(LlamaModel model, TrainingArguments args, BaseModelRef baseModel) {
        this.model = model;
        this.backend = model.backend();
        this.args = args;
        this.baseModel = baseModel;
        for (Parameter p : model.trainableParameters()) {
            m.put(p.name(), backend.allocate(DType.F32, p.value().length()));
            v.put(p.name(), backend.allocate(DType.F32, p.value().length()));
        }
    }

    public LlamaModel model() {
        return model;
    }

    @Override
    public double accumulateGradients(Batch batch, float gradScale, long dropoutSeed) {
        if (gradScale == 0f) return 0.0;
        model.seedDropout(dropoutSeed);
        return model.forwardBackward(batch, gradScale).sum();
    }

    @Override
    public double loss(Batch batch) {
        return model.loss(batch).sum();
    }

    @Override
    public void zeroGradients() {
        model.zeroGradients();
    }

    @Override
    public OptionalLong peakDeviceMemoryBytes() {
        return backend.peakDeviceMemoryBytes();
    }

    @Override
    public double gradientNorm() {
        return Math.sqrt(backend.sumOfSquares(model.trainableParameters().stream().map(Parameter::grad).toList()));
    }

    @Override
    public void optimizerStep(double learningRate, double gradMultiplier, int step) {
        AdamW hyper = new AdamW((float) learningRate, (float) args.adamBeta1(), (float) args.adamBeta2(),
                (float) args.adamEpsilon(), (float) args.weightDecay(), step);
        List<Parameter> params = model.trainableParameters();
        backend.adamw(params.stream().map(Parameter::value).toList(), params.stream().map(Parameter::grad).toList(),
                params.stream().map(p -> m.get(p.name())).toList(), params.stream().map(p -> v.get(p.name())).toList(),
                hyper, (float) gradMultiplier);
    }

    @Override
    public List<CheckpointPart> checkpointParts() {
        List<CheckpointPart> parts = new ArrayList<>();
        if (model.loraConfig() != null) {
            parts.add(new CheckpointPart(List.of(PeftAdapter.CONFIG_FILE, PeftAdapter.WEIGHTS_FILE), folder -> model.saveAdapter(folder, baseModel)));
        } else {
            parts.add(new CheckpointPart(List.of(FULL_CONFIG, FULL_WEIGHTS), model::saveModel));
        }
        parts.add(CheckpointPart.file(OPTIMIZER_FILE, f -> {
            Map<String, HostTensor> state = new LinkedHashMap<>();
            state.putAll(prefixed("exp_avg.", tensors(p -> m.get(p.name()))));
            state.putAll(prefixed("exp_avg_sq.", tensors(p -> v.get(p.name()))));
            SafeTensorsWriter.write(f, state, Map.of("optimizer", "AdamW"));
        }));
        return parts;
    }

    @Override
    public TrainingCard.Model describe() {
        String base = baseModel.reference();
        if (model.loraConfig() == null) {
            return new TrainingCard.Model(baseModel.nameOrPath(), "transformers", List.of("pricer", "full-fine-tune"),
                    "Every weight of a Llama model (%d layers, hidden size %d), trained from `%s`".formatted(
                            model.config().numLayers(), model.config().hiddenSize(), base));
        }
        boolean quantized = args.quantization() == Quantization.NF4;
        return new TrainingCard.Model(baseModel.nameOrPath(), "peft", List.of("pricer", quantized ? "qlora" : "lora"),
                quantized ? "A QLoRA adapter of `%s`, its frozen base weights held in 4-bit NF4 with double quantization as bitsandbytes holds them".formatted(base)
                        : "A LoRA adapter of `%s`".formatted(base));
    }

    private Map<String, HostTensor> tensors(Function<Parameter, Buffer> which) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Parameter p : model.trainableParameters()) out.put(p.name(), model.download(which.apply(p), p.shape()));
        return out;
    }

    private static Map<String, HostTensor> prefixed(String prefix, Map<String, HostTensor> tensors) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        tensors.forEach((k, t) -> out.put(prefix + k, t));
        return out;
    }

    @Override
    public void restore(Checkpoint checkpoint) {
        Path weights = checkpoint.file(model.loraConfig() != null ? PeftAdapter.WEIGHTS_FILE : FULL_WEIGHTS);
        try (SafeTensors w = SafeTensors.open(weights); SafeTensors o = SafeTensors.open(checkpoint.file(OPTIMIZER_FILE))) {
            for (Parameter p : model.trainableParameters()) {
                upload(w, p.name(), p, p.value());
                upload(o, "exp_avg." + p.name(), p, m.get(p.name()));
                upload(o, "exp_avg_sq." + p.name(), p, v.get(p.name()));
            }
        }
    }

    private void upload(SafeTensors file, String name, Parameter p, Buffer dst) {
        if (!file.contains(name)) throw new IllegalArgumentException(file.describe() + ": missing tensor '" + name + "'");
        HostTensor t = file.tensor(name);
        if (t.dtype() != DType.F32 || !Arrays.equals(t.shape(), p.shape())) {
            throw new IllegalArgumentException(file.describe() + ": tensor '" + name + "' is " + t.dtype() + Arrays.toString(t.shape())
                    + ", expected F32" + Arrays.toString(p.shape()));
        }
        backend.copyFromHost(t.data(), dst);
    }

    @Override
    public void close() {
        model.close();
    }
}
