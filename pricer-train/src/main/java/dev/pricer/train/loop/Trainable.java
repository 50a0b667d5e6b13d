package dev.pricer.train.loop;

import dev.pricer.core.model.Batch;
import dev.pricer.train.checkpoint.Checkpoint;
import dev.pricer.train.checkpoint.CheckpointPart;
import dev.pricer.train.checkpoint.TrainingCard;

import java.util.List;
import java.util.OptionalLong;

/**
 * What the loop trains: a model's trainable parameters (a LoRA adapter, or every weight), their gradients
 * and their AdamW state, on some backend. The loop decides what happens when; this says how.
 */
public interface Trainable extends AutoCloseable {

    /**
     * Forward and backward on one micro-batch: adds the gradient of {@code gradScale · Σ cross-entropy over
     * the batch's labels} to the gradients, and returns that sum (unscaled). {@code dropoutSeed} makes
     * dropout a function of where in the run this micro-batch is, so a resumed run draws the same masks.
     */
    double accumulateGradients(Batch batch, float gradScale, long dropoutSeed);

    /** Σ cross-entropy over the batch's labels, in evaluation mode (no dropout, no gradients). */
    double loss(Batch batch);

    void zeroGradients();

    /** The global L2 norm over all gradients. */
    double gradientNorm();

    /** Multiplies the gradients by {@code gradMultiplier} (clipping), then one AdamW update; {@code step} is 1-based. */
    void optimizerStep(double learningRate, double gradMultiplier, int step);

    /** Files holding the trained weights (in the format others read: PEFT, or HF safetensors) and the optimizer state. */
    List<CheckpointPart> checkpointParts();

    /** What the trained model is, for the model card each checkpoint carries ({@link TrainingCard}). */
    TrainingCard.Model describe();

    /** Loads weights and optimizer state from a checkpoint written through {@link #checkpointParts()}. */
    void restore(Checkpoint checkpoint);

    /** The backend's {@link dev.pricer.core.backend.Backend#peakDeviceMemoryBytes()}: what a run reports as its peak. */
    default OptionalLong peakDeviceMemoryBytes() {
        return OptionalLong.empty();
    }

    @Override
    void close();
}
