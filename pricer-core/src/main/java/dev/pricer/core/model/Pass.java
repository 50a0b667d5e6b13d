package dev.pricer.core.model;

import dev.pricer.core.backend.AttentionShape;
import dev.pricer.core.backend.Buffer;

/**
 * What every layer needs to know about the current forward (and backward) pass: its shape, where each row
 * sits (positions), how long each sequence is (right padding), and whether LoRA dropout is on.
 */
record Pass(int rows, AttentionShape attention, Buffer positions, Buffer validLengths, boolean training, long seed) {

    /** A distinct dropout seed for each (layer, projection) of this pass. */
    Linear.Dropout dropout(int layer, Projection projection) {
        if (!training) return Linear.Dropout.OFF;
        long z = seed + 0x9E3779B97F4A7C15L * (layer * 8L + projection.ordinal() + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return new Linear.Dropout(true, z ^ (z >>> 31));
    }
}
