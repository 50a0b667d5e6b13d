package dev.pricer.train.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/** One file of a checkpoint: its name inside the checkpoint folder and how to write it. */
public record CheckpointFile(String name, Writer writer) {

    @FunctionalInterface
    public interface Writer {
        void write(Path file) throws IOException;
    }

    public CheckpointFile {
        if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
            throw new IllegalArgumentException("checkpoint file name must be a plain name, got '" + name + "'");
        }
    }
}
