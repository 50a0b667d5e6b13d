package dev.pricer.data.read;

import java.nio.file.Path;

/** A data file that cannot be read as a whole; the message names the file and what is wrong with it. */
public final class DataFileException extends RuntimeException {

    private final transient Path file;

    public DataFileException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public DataFileException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
