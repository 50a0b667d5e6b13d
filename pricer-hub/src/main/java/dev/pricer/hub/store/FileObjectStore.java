package dev.pricer.hub.store;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Objects as files under a root folder. Writes go to a temporary file in {@code tmp/} that is flushed and then
 * renamed over the key, so a crash leaves the old file or the new one. Compare-and-set holds a lock both in this
 * process and on a lock file, so pushes from several processes on one machine are serialised too.
 */
public final class FileObjectStore implements ObjectStore {

    private final Path root;
    private final Path staging;
    private final Path locks;
    private final ConcurrentHashMap<String, Object> monitors = new ConcurrentHashMap<>();

    public FileObjectStore(Path root) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        this.staging = Files.createDirectories(this.root.resolve("tmp"));
        this.locks = Files.createDirectories(this.root.resolve("locks"));
    }

    public Path root() {
        return root;
    }

    private Path file(String key) {
        Path file = root.resolve(key).normalize();
        if (!file.startsWith(root) || file.equals(root)) throw new IllegalArgumentException("key escapes the store: " + key);
        return file;
    }

    @Override
    public Optional<Stat> stat(String key) throws IOException {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file(key), BasicFileAttributes.class);
            return Optional.of(new Stat(key, attributes.size(), attributes.lastModifiedTime().toInstant()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public Optional<byte[]> read(String key) throws IOException {
        try {
            return Optional.of(Files.readAllBytes(file(key)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public InputStream open(String key, long offset, long length) throws IOException {
        FileChannel channel = FileChannel.open(file(key), StandardOpenOption.READ);
        channel.position(offset);
        return new FilterInputStream(Channels.newInputStream(channel)) {
            private long left = length;

            @Override
            public int read() throws IOException {
                if (left <= 0) return -1;
                int b = super.read();
                if (b >= 0) left--;
                return b;
            }

            @Override
            public int read(byte[] buffer, int off, int len) throws IOException {
                if (left <= 0) return -1;
                int n = super.read(buffer, off, (int) Math.min(len, left));
                if (n > 0) left -= n;
                return n;
            }
        };
    }

    @Override
    public void write(String key, byte[] content) throws IOException {
        Path temp = Files.createTempFile(staging, "write-", ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) channel.write(buffer);
                channel.force(true);
            }
            Path target = file(key);
            Files.createDirectories(target.getParent());
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    @Override
    public void moveIn(Path staged, String key) throws IOException {
        Path target = file(key);
        if (Files.exists(target)) {
            Files.setLastModifiedTime(target, java.nio.file.attribute.FileTime.from(java.time.Instant.now()));
            Files.delete(staged);
            return;
        }
        try (FileChannel channel = FileChannel.open(staged, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.createDirectories(target.getParent());
        Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public Path stagingDir() {
        return staging;
    }

    @Override
    public boolean compareAndSet(String key, byte[] expected, byte[] update) throws IOException {
        Path lockFile = locks.resolve(Integer.toHexString(key.hashCode() & 0xff) + ".lock");
        synchronized (monitors.computeIfAbsent(key, k -> new Object())) {
            try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = channel.lock()) {
                Optional<byte[]> current = read(key);
                boolean matches = expected == null ? current.isEmpty() : current.isPresent() && Arrays.equals(current.get(), expected);
                if (!matches) return false;
                if (update == null) Files.delete(file(key));
                else write(key, update);
                return true;
            }
        }
    }

    @Override
    public List<Stat> list(String prefix) throws IOException {
        int slash = prefix.lastIndexOf('/');
        Path dir = slash < 0 ? root : file(prefix.substring(0, slash));
        if (!Files.isDirectory(dir)) return List.of();
        List<Stat> stats = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path path : (Iterable<Path>) walk::iterator) {
                String key = root.relativize(path).toString().replace('\\', '/');
                if (!key.startsWith(prefix)) continue;
                BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
                if (attributes.isRegularFile()) stats.add(new Stat(key, attributes.size(), attributes.lastModifiedTime().toInstant()));
            }
        } catch (NoSuchFileException raced) {
            return list(prefix);
        }
        return stats;
    }

    @Override
    public void delete(String key) throws IOException {
        Files.deleteIfExists(file(key));
    }

    @Override
    public void close() {
    }
}
