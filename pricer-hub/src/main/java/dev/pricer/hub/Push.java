package dev.pricer.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * One commit to make: files to add or replace (path in the repository to a local file), paths to delete, the
 * message, the branch, and optionally the head the caller expects the branch to have (else the head read when
 * the push starts, so a racing push that lands first makes this one fail with a conflict). Files not named
 * stay as they are in the parent commit.
 */
public record Push(String branch, String message, SortedMap<String, Path> files, Set<String> deletions, String expectedHead) {

    public static final String MAIN = "main";

    public Push {
        HubPaths.checkRef(branch);
        if (message == null || message.isBlank()) throw new HubException.Invalid("commit message is empty");
        files = new TreeMap<>(files);
        files.keySet().forEach(HubPaths::checkPath);
        deletions = Set.copyOf(deletions);
        deletions.forEach(HubPaths::checkPath);
    }

    /** Adds or replaces the given files on {@code main}. */
    public static Push files(Map<String, Path> files, String message) {
        return new Push(MAIN, message, new TreeMap<>(files), Set.of(), null);
    }

    /** Adds or replaces every regular file under {@code dir}, at its path relative to {@code dir}, on {@code main}. */
    public static Push directory(Path dir, String message) {
        if (!Files.isDirectory(dir)) throw new HubException.Invalid("not a directory: " + dir);
        SortedMap<String, Path> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.filter(Files::isRegularFile).forEach(file -> files.put(dir.relativize(file).toString().replace('\\', '/'), file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        if (files.isEmpty()) throw new HubException.Invalid("no files to push in " + dir);
        return new Push(MAIN, message, files, Set.of(), null);
    }

    public Push onBranch(String name) {
        return new Push(name, message, files, deletions, expectedHead);
    }

    public Push deleting(Set<String> paths) {
        return new Push(branch, message, files, paths, expectedHead);
    }

    /** Fails with {@link HubException.Conflict} unless the branch is at {@code sha} when the commit lands. */
    public Push expecting(String sha) {
        return new Push(branch, message, files, deletions, sha);
    }
}
