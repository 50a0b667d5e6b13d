package dev.pricer.train.data;

import dev.pricer.core.model.Batch;

/**
 * Micro-batches by (epoch, index), the same every time they are asked for: the loop can start anywhere, which
 * is what resuming needs.
 */
public interface BatchSource {

    int microBatchesPerEpoch();

    Batch microBatch(int epoch, int index);

    /** Examples per epoch. */
    int examples();

    /** Identifies the data and its batching; a resumed run checks it against the checkpoint's. */
    String fingerprint();
}
