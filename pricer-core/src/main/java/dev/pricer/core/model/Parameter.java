package dev.pricer.core.model;

import dev.pricer.core.backend.Buffer;

/**
 * A trainable tensor: its name (the PEFT key for LoRA, e.g.
 * {@code base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight}; the HF name in full training), shape,
 * value and accumulated gradient, both backend buffers of the same length.
 */
public record Parameter(String name, long[] shape, Buffer value, Buffer grad) {

    public Parameter {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }
}
