package dev.pricer.hub;

import dev.pricer.hub.store.Hashing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.function.LongConsumer;

/**
 * Writes a download so that {@code target} is either untouched or complete and checked, never half-written. The bytes
 * arrive in a hidden {@code .NAME.incomplete} file beside it, which a killed or cut-off download leaves behind: the
 * next download of that target goes on from there (a 5 GB shard need not start over), as huggingface_hub's does.
 */
public final class CheckedDownload {

    private static final int CHUNK = 1 << 16;

    private CheckedDownload() {
    }

    /**
     * The bytes of a file from {@code offset} on, with what was announced of the whole file: its size (-1 when not
     * said) and sha256 (null when not said). {@code offset} is where they really start: 0 where the source cannot skip.
     */
    public record Source(InputStream in, long offset, long size, String sha256) {
    }

    /** Opens the file's bytes from an offset: the bytes already kept, to resume after. */
    @FunctionalInterface
    public interface Opener {
        Source open(long offset) throws IOException;
    }

    /**
     * Whether {@code target} already holds {@code file}: its size and its sha256 (a file's hash is read, where a second
     * download of an 8B model's shards would take minutes). False where the sha256 was not announced.
     */
    public static boolean holds(Path target, FileEntry file) throws IOException {
        return file.sha256() != null && Files.isRegularFile(target) && Files.size(target) == file.size() && Hashing.sha256(target).equals(file.sha256());
    }

    /** Where the bytes of a download to {@code target} arrive until they are whole and checked. */
    public static Path partOf(Path target) {
        return target.toAbsolutePath().getParent().resolve("." + target.getFileName() + ".incomplete");
    }

    /**
     * Downloads to {@code target}: resumes from the bytes a download before left, checks the size and sha256 the
     * source announces, then renames the whole over {@code target}. {@code moved} hears of the bytes as they are
     * written, those kept from before first. A file whose kept bytes turn out to belong to another version starts over
     * once; a download to the same target running elsewhere is a conflict.
     */
    public static Path write(Path target, Opener opener, LongConsumer moved) throws IOException {
        Files.createDirectories(target.toAbsolutePath().getParent());
        Path part = partOf(target);
        try (FileChannel channel = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
             FileLock lock = lock(channel, target)) {
            long kept = channel.size();
            try {
                return fetch(channel, kept, opener, target, moved);
            } catch (HubException.Invalid mismatch) {
                if (kept == 0) throw mismatch;
                // The kept bytes came from another version of the file (or were damaged): start over, once.
                return fetch(channel, 0, opener, target, moved);
            } finally {
                // Bytes that arrived are kept to resume from; an empty part (nothing came, or they proved wrong) is not.
                if (Files.exists(part) && channel.size() == 0) Files.delete(part);
            }
        }
    }

    private static FileLock lock(FileChannel channel, Path target) throws IOException {
        try {
            FileLock lock = channel.tryLock();
            if (lock != null) return lock;
        } catch (OverlappingFileLockException sameProcess) {
            // Held by another thread of this process: the same conflict.
        }
        throw new HubException.Conflict("another download to " + target + " is in progress");
    }

    private static Path fetch(FileChannel channel, long kept, Opener opener, Path target, LongConsumer moved) throws IOException {
        Source source = opener.open(kept);
        try (InputStream in = source.in()) {
            long start = Math.min(source.offset(), kept);
            channel.truncate(start);
            MessageDigest digest = Hashing.sha256();
            hashKept(channel, start, digest);
            moved.accept(start);
            channel.position(start);
            long length = start + copy(in, channel, digest, moved);
            String actual = Hashing.hex(digest);
            if ((source.size() >= 0 && length != source.size()) || (source.sha256() != null && !actual.equals(source.sha256()))) {
                channel.truncate(0);
                throw new HubException.Invalid("download to " + target + " has " + length + " bytes and sha256 " + actual + " but " + source.size()
                    + " bytes" + (source.sha256() == null ? "" : " and sha256 " + source.sha256()) + " were announced; the target was left as it was");
            }
            Files.move(partOf(target), target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        }
    }

    private static void hashKept(FileChannel channel, long length, MessageDigest digest) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
        for (long at = 0; at < length; ) {
            buffer.clear().limit((int) Math.min(CHUNK, length - at));
            int n = channel.read(buffer, at);
            if (n < 0) throw new IOException("the kept part ended at " + at + " of " + length + " bytes");
            digest.update(buffer.flip());
            at += n;
        }
    }

    private static long copy(InputStream in, FileChannel channel, MessageDigest digest, LongConsumer moved) throws IOException {
        byte[] chunk = new byte[CHUNK];
        long copied = 0;
        for (int n; (n = in.read(chunk)) >= 0; ) {
            if (n == 0) continue;
            digest.update(chunk, 0, n);
            ByteBuffer buffer = ByteBuffer.wrap(chunk, 0, n);
            while (buffer.hasRemaining()) channel.write(buffer);
            moved.accept(n);
            copied += n;
        }
        return copied;
    }
}
