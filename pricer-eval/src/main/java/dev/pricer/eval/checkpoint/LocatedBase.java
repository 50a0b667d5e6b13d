package dev.pricer.eval.checkpoint;

import dev.pricer.core.lora.BaseModelRef;

import java.nio.file.Path;

/**
 * A base model found for training or evaluation: its folder on this machine, and what an adapter trained on it
 * records ({@code base_model_name_or_path} and {@code revision}), so that another machine finds the same base.
 */
public record LocatedBase(Path dir, BaseModelRef ref) {

    /** A folder as it is, named by its absolute path: only this machine knows it. */
    public static LocatedBase folder(Path dir) {
        return new LocatedBase(dir, BaseModelRef.of(dir.toAbsolutePath().normalize().toString()));
    }
}
