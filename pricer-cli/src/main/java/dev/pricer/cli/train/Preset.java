package dev.pricer.cli.train;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Named sets of training settings. {@code course} is the course's QLoRA run: Llama 3.1 8B in 4-bit NF4, LoRA
 * r 32, alpha 64, dropout 0.1 over q, k, v and o; one epoch at batch 4; learning rate 1e-4 with a cosine
 * schedule after a 3% warmup; sequences of 182 tokens; a save every 2000 steps and a log line every 50.
 * Flags given beside a preset win over it.
 */
public enum Preset {

    COURSE("hf:meta-llama/Llama-3.1-8B", Map.ofEntries(
            Map.entry("quantize", "nf4"),
            Map.entry("lora_r", "32"),
            Map.entry("lora_alpha", "64"),
            Map.entry("lora_dropout", "0.1"),
            Map.entry("lora_target_modules", "q_proj,k_proj,v_proj,o_proj"),
            Map.entry("num_train_epochs", "1"),
            Map.entry("per_device_train_batch_size", "4"),
            Map.entry("learning_rate", "1e-4"),
            Map.entry("lr_scheduler_type", "cosine"),
            Map.entry("warmup_ratio", "0.03"),
            Map.entry("max_seq_length", "182"),
            Map.entry("save_steps", "2000"),
            Map.entry("logging_steps", "50")));

    private final String base;
    private final Map<String, String> arguments;

    Preset(String base, Map<String, String> arguments) {
        this.base = base;
        this.arguments = Map.copyOf(arguments);
    }

    /** The base model, a folder or {@code hf:owner/name}. */
    public String base() {
        return base;
    }

    /** Training arguments by Hugging Face name, as text, as flags give them. */
    public Map<String, String> arguments() {
        return arguments;
    }

    /** The preset's arguments with {@code flags} laid over them. */
    public Map<String, String> under(Map<String, String> flags) {
        Map<String, String> merged = new LinkedHashMap<>(arguments);
        merged.putAll(flags);
        return merged;
    }

    public static Preset parse(String name) {
        try {
            return valueOf(name.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown preset '" + name + "': choose one of "
                    + Arrays.stream(values()).map(p -> p.name().toLowerCase(java.util.Locale.ROOT)).collect(Collectors.joining(", ")), e);
        }
    }
}
