package dev.pricer.core.lora;

import java.util.List;
import java.util.Set;

/**
 * A LoRA adapter's hyper-parameters, with PEFT's meaning: rank {@code r}, {@code alpha}, dropout on the
 * adapter's input while training, the projections it wraps (short names such as {@code q_proj}), and rsLoRA's
 * scaling {@code alpha/√r} instead of {@code alpha/r}.
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targetModules, boolean useRslora) {

    /** The seven linear projections of a Llama layer, in PEFT's short names. */
    public static final List<String> ALL_PROJECTIONS = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    public LoraConfig {
        targetModules = List.copyOf(targetModules);
        if (r <= 0) throw new IllegalArgumentException("LoRA r must be positive, got " + r);
        if (dropout < 0 || dropout >= 1) throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
        if (targetModules.isEmpty()) throw new IllegalArgumentException("LoRA target_modules is empty");
        for (String m : targetModules) {
            if (!ALL_PROJECTIONS.contains(m)) throw new IllegalArgumentException("unsupported LoRA target module '" + m + "' (supported: " + ALL_PROJECTIONS + ")");
        }
        if (Set.copyOf(targetModules).size() != targetModules.size()) throw new IllegalArgumentException("LoRA target_modules repeats a module: " + targetModules);
    }

    public double scaling() {
        return useRslora ? alpha / Math.sqrt(r) : alpha / r;
    }

    public boolean targets(String projection) {
        return targetModules.contains(projection);
    }
}
