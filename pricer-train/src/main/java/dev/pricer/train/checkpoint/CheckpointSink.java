package dev.pricer.train.checkpoint;

import java.io.IOException;

/**
 * Where a checkpoint goes once it is safely in the run folder: the hub commits it to the run's model
 * repository. Without a hub the run folder is the only copy and nothing more happens.
 */
public interface CheckpointSink extends AutoCloseable {

    /** {@code finalCheckpoint} is true for the save at the end of training. */
    void publish(Checkpoint checkpoint, boolean finalCheckpoint) throws IOException;

    @Override
    default void close() throws IOException {
    }

    CheckpointSink RUN_FOLDER_ONLY = (checkpoint, last) -> { };
}
