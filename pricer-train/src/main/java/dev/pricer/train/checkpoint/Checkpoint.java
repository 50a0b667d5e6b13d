package dev.pricer.train.checkpoint;

import java.nio.file.Path;
import java.util.List;

/** A complete checkpoint folder ({@code checkpoint-<step>}) and the files it holds. */
public record Checkpoint(Path dir, int step, List<String> files) {

    public static final String PREFIX = "checkpoint-";

    public Checkpoint {
        files = List.copyOf(files);
    }

    public Path file(String name) {
        return dir.resolve(name);
    }
}
