package dev.pricer.cuda.kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Compiled kernels on disk, keyed by the source hash (file, headers, compiler version, options) and the GPU
 * architecture, so NVRTC runs once per kernel file, GPU kind and edit. Each entry carries the SHA-256 of its
 * image: a truncated or damaged file is recompiled and replaced, never loaded. Entries are written to a
 * temporary file and moved into place, so a killed process leaves no half-written entry.
 */
public final class KernelCache {

    /** Turns a source into a CUBIN; NVRTC in production. */
    public interface Compiler {
        String version();

        byte[] compile(KernelSource source, List<String> options);
    }

    private static final System.Logger LOG = System.getLogger(KernelCache.class.getName());
    private static final byte[] MAGIC = "PRCUBIN1".getBytes(StandardCharsets.US_ASCII);
    private static final int DIGEST_BYTES = 32;

    private final Path directory;
    private final Compiler compiler;

    public KernelCache(Path directory, Compiler compiler) {
        this.directory = directory;
        this.compiler = compiler;
    }

    /** $PRICER_CUDA_CACHE, else $PRICER_HOME/cuda-kernels, else ~/.pricer/cuda-kernels. */
    public static Path defaultDirectory(Map<String, String> env) {
        String explicit = env.get("PRICER_CUDA_CACHE");
        if (explicit != null && !explicit.isBlank()) return Path.of(explicit);
        String home = env.get("PRICER_HOME");
        if (home != null && !home.isBlank()) return Path.of(home, "cuda-kernels");
        return Path.of(System.getProperty("user.home"), ".pricer", "cuda-kernels");
    }

    /** The NVRTC options for an architecture such as {@code sm_90}. */
    public static List<String> options(String arch) {
        return List.of("--gpu-architecture=" + arch, "--std=c++17");
    }

    public Path entry(KernelSource source, String arch) {
        String base = source.fileName().replaceFirst("\\.cu$", "");
        return directory.resolve(base + "-" + arch + "-" + source.hash(compiler.version(), options(arch)).substring(0, 32) + ".cubin");
    }

    /** The CUBIN of {@code source} for {@code arch}: from disk when a valid entry exists, else compiled and stored. */
    public byte[] cubin(KernelSource source, String arch) {
        Path file = entry(source, arch);
        byte[] cached = readValid(file);
        if (cached != null) return cached;
        byte[] image = compiler.compile(source, options(arch));
        try {
            write(file, image);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot store the compiled kernel in " + file
                    + " (set PRICER_CUDA_CACHE to a writable directory); it will be compiled again next time: " + e);
        }
        return image;
    }

    private static byte[] readValid(Path file) {
        if (!Files.isRegularFile(file)) return null;
        try {
            byte[] all = Files.readAllBytes(file);
            if (all.length < MAGIC.length + DIGEST_BYTES) return null;
            if (!Arrays.equals(all, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) return null;
            byte[] image = Arrays.copyOfRange(all, MAGIC.length, all.length - DIGEST_BYTES);
            byte[] digest = Arrays.copyOfRange(all, all.length - DIGEST_BYTES, all.length);
            return MessageDigest.isEqual(digest, KernelSource.sha256().digest(image)) ? image : null;
        } catch (IOException e) {
            return null;
        }
    }

    private void write(Path file, byte[] image) throws IOException {
        Files.createDirectories(directory);
        Path tmp = Files.createTempFile(directory, file.getFileName().toString(), ".tmp");
        try {
            byte[] digest = KernelSource.sha256().digest(image);
            byte[] all = new byte[MAGIC.length + image.length + DIGEST_BYTES];
            System.arraycopy(MAGIC, 0, all, 0, MAGIC.length);
            System.arraycopy(image, 0, all, MAGIC.length, image.length);
            System.arraycopy(digest, 0, all, MAGIC.length + image.length, DIGEST_BYTES);
            Files.write(tmp, all);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
