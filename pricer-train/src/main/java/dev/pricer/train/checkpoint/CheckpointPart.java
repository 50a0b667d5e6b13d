package dev.pricer.train.checkpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Part of a checkpoint: the files it puts in the checkpoint folder, and the writer that puts them there
 * (several at once where a format writes a set, as PEFT's adapter config and weights).
 */
public record CheckpointPart(List<String> files, Writer writer) {

    @FunctionalInterface
    public interface Writer {
        void writeInto(Path folder) throws IOException;
    }

    @FunctionalInterface
    public interface FileWriter {
        void write(Path file) throws IOException;
    }

    public CheckpointPart {
        files = List.copyOf(files);
        if (files.isEmpty()) throw new IllegalArgumentException("a checkpoint part writes at least one file");
        for (String name : files) {
            if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".") || name.equals(CheckpointStore.COMPLETE)) {
                throw new IllegalArgumentException("checkpoint file name must be a plain name, got '" + name + "'");
            }
        }
    }

    /** One file, written by {@code writer} to the path it is given. */
    public static CheckpointPart file(String name, FileWriter writer) {
        return new CheckpointPart(List.of(name), folder -> writer.write(folder.resolve(name)));
    }
}
