package dev.pricer.cli;

import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/** A failure as the one line a command prints: file errors name the file and what is wrong with it. */
public final class Failures {

    private Failures() {
    }

    public static String describe(Throwable failure) {
        Throwable t = failure;
        // Wrapped without a message of its own, an UncheckedIOException's message is its cause's class and message.
        if (t instanceof UncheckedIOException u && u.getCause() != null && u.getCause().toString().equals(u.getMessage())) t = u.getCause();
        return switch (t) {
            case NoSuchFileException e -> e.getFile() + ": " + (e.getReason() != null ? e.getReason() : "no such file or folder");
            case AccessDeniedException e -> e.getFile() + ": permission denied";
            case FileSystemException e -> e.getFile() + ": " + (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName());
            default -> t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
        };
    }
}
