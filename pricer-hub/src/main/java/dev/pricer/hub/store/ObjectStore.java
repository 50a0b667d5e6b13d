package dev.pricer.hub.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where the hub keeps its objects: keys are {@code /}-separated names, values are bytes. Every write is atomic
 * (a reader sees the old value or the new one, never a part), and {@link #compareAndSet} is what refs move by.
 */
public sealed interface ObjectStore extends AutoCloseable permits FileObjectStore, S3ObjectStore {

    record Stat(String key, long size, Instant modified) {
    }

    Optional<Stat> stat(String key) throws IOException;

    Optional<byte[]> read(String key) throws IOException;

    /** Bytes {@code [offset, offset + length)} of the object; throws {@link java.nio.file.NoSuchFileException} when it is missing. */
    InputStream open(String key, long offset, long length) throws IOException;

    /** Writes small content, replacing any. */
    void write(String key, byte[] content) throws IOException;

    /**
     * Stores a staged file (from {@link #stagingDir()}) under {@code key}, consuming it. When the key exists already
     * (content-addressed: the same bytes) it only renews the object's time, so that gc's grace period covers it
     * again while the push that brought it finishes.
     */
    void moveIn(Path staged, String key) throws IOException;

    /** A local folder for files being received before they are stored; on the store's file system when it has one. */
    Path stagingDir();

    /**
     * Sets {@code key} to {@code update} only if it now holds {@code expected} (null: only if it is absent).
     * Returns false, changing nothing, when it does not.
     */
    boolean compareAndSet(String key, byte[] expected, byte[] update) throws IOException;

    /** Every key that starts with {@code prefix}. */
    List<Stat> list(String prefix) throws IOException;

    void delete(String key) throws IOException;

    @Override
    void close();
}
