package dev.pricer.cli;

import java.io.IOException;
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
        if (t instanceof FileSystemException e) return e.getFile() + ": " + reason(e);
        String message = t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
        // "cannot write X" says what failed; an I/O cause says why (a full disk), unless the message already does.
        if (t.getCause() instanceof IOException cause && !message.contains(reason(cause))) {
            String file = cause instanceof FileSystemException f && f.getFile() != null && !message.contains(f.getFile()) ? f.getFile() + ": " : "";
            return message + ": " + file + reason(cause);
        }
        return message;
    }

    /** Why an I/O operation failed, in words: what a file error's class means, else its message. */
    private static String reason(IOException e) {
        return switch (e) {
            case NoSuchFileException n when n.getReason() == null -> "no such file or folder";
            case AccessDeniedException a when a.getReason() == null -> "permission denied";
            case FileSystemException f when f.getReason() != null -> f.getReason();
            default -> e.getMessage() != null && !(e instanceof FileSystemException) ? e.getMessage() : e.getClass().getSimpleName();
        };
    }
}
