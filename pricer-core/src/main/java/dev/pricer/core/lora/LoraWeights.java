package dev.pricer.core.lora;

import dev.pricer.core.backend.Buffer;

/**
 * One LoRA pair on a linear layer of shape {@code [out, in]}: {@code A} is {@code [r, in]}, {@code B} is
 * {@code [out, r]} (PEFT's shapes), with their gradient buffers. The layer adds {@code scaling · B·A·x}.
 */
public record LoraWeights(int r, float scaling, float dropout, Buffer a, Buffer b, Buffer gradA, Buffer gradB) {
}
