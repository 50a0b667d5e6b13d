package dev.pricer.core.model;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.tensor.HostTensor;

/**
 * RoPE's cos and sin tables, {@code [positions, headDim/2]}, computed the way transformers does: inverse
 * frequencies in float32, scaled (llama3 or linear), angles {@code position · frequency} in float32.
 * The tables grow on demand, so a short run never pays for the model's 128k-position context.
 */
final class Rope {

    private final Backend backend;
    private final float[] inverseFrequencies;
    private final int maxPositions;
    private Buffer cos;
    private Buffer sin;
    private int capacity;

    Rope(Backend backend, LlamaConfig config) {
        this.backend = backend;
        this.maxPositions = config.maxPositionEmbeddings();
        int half = config.headDim() / 2;
        inverseFrequencies = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / config.headDim();
            float inv = (float) (1.0 / (float) StrictMath.pow(config.ropeTheta(), exponent));
            inverseFrequencies[i] = (float) config.ropeScaling().scale(inv);
        }
    }

    /** Makes the tables cover positions {@code [0, positions)}. */
    void ensure(int positions) {
        if (positions <= capacity) return;
        if (positions > maxPositions) {
            throw new IllegalArgumentException("sequence of " + positions + " positions exceeds max_position_embeddings " + maxPositions);
        }
        int size = Math.min(maxPositions, Math.max(positions, Math.max(256, capacity * 2)));
        int half = inverseFrequencies.length;
        float[] c = new float[size * half], s = new float[size * half];
        for (int p = 0; p < size; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) p * inverseFrequencies[i];
                c[p * half + i] = (float) StrictMath.cos(angle);
                s[p * half + i] = (float) StrictMath.sin(angle);
            }
        }
        cos = backend.upload(HostTensor.ofFloats(c, size, half), true);
        sin = backend.upload(HostTensor.ofFloats(s, size, half), true);
        capacity = size;
    }

    Buffer cos() {
        return cos;
    }

    Buffer sin() {
        return sin;
    }
}
