package dev.pricer.train.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The checkpoints of one run, in its folder, as {@code checkpoint-<step>} folders. A checkpoint is written
 * whole into a temporary folder, flushed to disk, then renamed into place, so a crash, a full disk or an I/O
 * error mid-write never leaves a half checkpoint under a real name, and never touches the earlier ones.
 * Leftover temporary folders (from a killed process) are ignored and cleared on the next write.
 */
public final class CheckpointStore {

    /** Marks a folder as complete; written last, before the rename. */
    public static final String COMPLETE = "COMPLETE";
    private static final String TEMP_SUFFIX = ".tmp";

    private final Path runDir;

    public CheckpointStore(Path runDir) {
        this.runDir = runDir;
    }

    public Path runDir() {
        return runDir;
    }

    public Checkpoint write(int step, List<CheckpointPart> parts) throws IOException {
        Files.createDirectories(runDir);
        Path target = runDir.resolve(Checkpoint.PREFIX + step);
        if (Files.exists(target)) throw new IOException("checkpoint " + target + " already exists");
        Path temp = runDir.resolve(Checkpoint.PREFIX + step + TEMP_SUFFIX);
        deleteTree(temp);
        Files.createDirectory(temp);
        List<String> names = new ArrayList<>();
        try {
            for (CheckpointPart part : parts) {
                part.writer().writeInto(temp);
                for (String name : part.files()) {
                    Path file = temp.resolve(name);
                    if (!Files.isRegularFile(file)) throw new IOException("checkpoint file " + name + " was not written");
                    if (names.contains(name)) throw new IOException("checkpoint file " + name + " is written twice");
                    force(file);
                    names.add(name);
                }
            }
            Files.writeString(temp.resolve(COMPLETE), String.join("\n", names) + "\n");
            force(temp.resolve(COMPLETE));
            force(temp);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the run folder " + runDir + " does not support atomic renames", e);
            }
            force(runDir);
        } catch (IOException | RuntimeException e) {
            try {
                deleteTree(temp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        return new Checkpoint(target, step, names);
    }

    /** Complete checkpoints, oldest first. */
    public List<Checkpoint> list() {
        if (!Files.isDirectory(runDir)) return List.of();
        try (Stream<Path> s = Files.list(runDir)) {
            return s.filter(p -> Files.isDirectory(p) && stepOf(p) >= 0 && Files.isRegularFile(p.resolve(COMPLETE)))
                    .map(CheckpointStore::open)
                    .sorted(Comparator.comparingInt(Checkpoint::step))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + runDir, e);
        }
    }

    public Optional<Checkpoint> latest() {
        List<Checkpoint> all = list();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.getLast());
    }

    /** Deletes the oldest complete checkpoints so that at most {@code limit} remain. */
    public List<Checkpoint> prune(int limit) throws IOException {
        List<Checkpoint> all = list();
        List<Checkpoint> removed = new ArrayList<>();
        for (int i = 0; i < all.size() - limit; i++) {
            deleteTree(all.get(i).dir());
            removed.add(all.get(i));
        }
        return removed;
    }

    /** A checkpoint folder given by path; it must be complete. */
    public static Checkpoint open(Path dir) {
        int step = stepOf(dir);
        if (step < 0) throw new IllegalArgumentException(dir + " is not a checkpoint folder (expected " + Checkpoint.PREFIX + "<step>)");
        Path complete = dir.resolve(COMPLETE);
        try {
            List<String> files = Files.readAllLines(complete).stream().filter(s -> !s.isBlank()).toList();
            for (String f : files) {
                if (!Files.isRegularFile(dir.resolve(f))) throw new IllegalArgumentException("checkpoint " + dir + " is missing " + f);
            }
            return new Checkpoint(dir, step, files);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("checkpoint " + dir + " is incomplete (no " + COMPLETE + " marker)", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read checkpoint " + dir, e);
        }
    }

    private static int stepOf(Path dir) {
        String name = dir.getFileName().toString();
        if (!name.startsWith(Checkpoint.PREFIX)) return -1;
        try {
            return Integer.parseInt(name.substring(Checkpoint.PREFIX.length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static void force(Path path) throws IOException {
        boolean dir = Files.isDirectory(path);
        try (FileChannel ch = FileChannel.open(path, dir ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
            ch.force(true);
        } catch (IOException e) {
            // Some file systems refuse to sync a directory; the files themselves were synced above.
            if (!dir) throw e;
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) throw e;
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
