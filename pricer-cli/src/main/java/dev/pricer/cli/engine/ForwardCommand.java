package dev.pricer.cli.engine;

import dev.pricer.cli.device.DeviceOptions;
import dev.pricer.core.FormatException;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.model.Batch;
import dev.pricer.core.model.LlamaModel;
import dev.pricer.core.model.LossSum;
import dev.pricer.core.model.Parameter;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.safetensors.SafeTensorsWriter;
import dev.pricer.core.tensor.HostTensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code pricer forward}: runs a model (and adapter) on token ids from a safetensors file and writes what it
 * computed to another, so that any implementation (transformers, PEFT, ours on another backend) can be compared.
 */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = {"Run a Llama model (and LoRA adapter) forward, and backward with --grads, on --device (float32 on cuda with"
                        + " --precision float32, to compare backends).",
                "Reads input_ids [batch, seq] (and labels, attention_mask if present) from --inputs; writes logits "
                        + "[batch, seq, vocab], loss (mean CE over labels != -100, after the causal shift) and, with --grads, "
                        + "grad.<PEFT key> for every LoRA tensor to --output."})
public final class ForwardCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Hugging Face model folder (config.json + safetensors)")
    Path model;

    @Option(names = "--adapter", description = "PEFT LoRA adapter folder")
    Path adapter;

    @Option(names = "--inputs", required = true, description = "safetensors file with input_ids (labels, attention_mask optional)")
    Path inputs;

    @Option(names = "--output", required = true, description = "safetensors file to write")
    Path output;

    @Option(names = "--grads", description = "also write the gradients of the loss for the adapter's tensors")
    boolean grads;

    @Mixin
    DeviceOptions device;

    @Override
    public Integer call() {
        Map<String, HostTensor> in = SafeTensors.readAll(inputs);
        HostTensor ids = field(in, "input_ids");
        long[] shape = ids.shape();
        if (shape.length != 2) throw new FormatException(inputs + ": field 'input_ids' must be [batch, seq], got " + Arrays.toString(shape));
        int batchSize = (int) shape[0], seqLen = (int) shape[1];
        int[] labels = optional(in, "labels", shape), mask = optional(in, "attention_mask", shape);
        if (grads && adapter == null) throw new IllegalArgumentException("--grads needs --adapter: the gradients are the adapter's");
        if (grads && labels == null) throw new FormatException(inputs + ": --grads needs field 'labels'");
        Batch batch;
        try {
            batch = new Batch(batchSize, seqLen, ids.toIntArray(), labels, mask);
        } catch (IllegalArgumentException e) {
            throw new FormatException(inputs + ": " + e.getMessage(), e);
        }
        Map<String, HostTensor> out = new LinkedHashMap<>();
        try (Backend backend = device.open(System.err::println);
             LlamaModel llama = LlamaModel.load(model, adapter, backend)) {
            out.put("logits", llama.logits(batch));
            if (labels != null && batch.labelTokens() > 0) {
                LossSum loss;
                if (grads) {
                    llama.zeroGradients();
                    loss = llama.forwardBackward(batch, 1f / batch.labelTokens());
                    for (Parameter p : llama.trainableParameters()) out.put("grad." + p.name(), llama.download(p.grad(), p.shape()));
                } else {
                    loss = llama.loss(batch);
                }
                out.put("loss", HostTensor.scalar((float) loss.mean()));
                System.out.printf("loss %.6f over %d label tokens%n", loss.mean(), loss.tokens());
            }
        }
        SafeTensorsWriter.write(output, out, Map.of("producer", "pricer forward"));
        System.out.println("wrote " + out.size() + " tensors to " + output);
        return 0;
    }

    private HostTensor field(Map<String, HostTensor> in, String name) {
        HostTensor t = in.get(name);
        if (t == null) throw new FormatException(inputs + ": missing field '" + name + "'");
        if (t.dtype().isFloatingPoint()) throw new FormatException(inputs + ": field '" + name + "' must hold integers, got " + t.dtype());
        return t;
    }

    private int[] optional(Map<String, HostTensor> in, String name, long[] shape) {
        if (!in.containsKey(name)) return null;
        HostTensor t = field(in, name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new FormatException(inputs + ": field '" + name + "' has shape " + Arrays.toString(t.shape()) + ", input_ids " + Arrays.toString(shape));
        }
        return t.toIntArray();
    }
}
