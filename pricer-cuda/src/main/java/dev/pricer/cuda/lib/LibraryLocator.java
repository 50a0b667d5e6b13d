package dev.pricer.cuda.lib;

import dev.pricer.cuda.CudaUnavailableException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedSet;
import java.util.stream.Stream;

/**
 * Finds the CUDA shared libraries the way CUDA programs usually do: the directories of
 * {@code LD_LIBRARY_PATH}, then {@code CUDA_HOME} / {@code CUDA_PATH}, then the standard install locations
 * ({@code /usr/local/cuda}, every {@code /usr/local/cuda-X.Y}, newest first, the distribution's library
 * directories and the container driver mount). The environment and the file system root are parameters
 * so that discovery can be tested without a GPU.
 */
public final class LibraryLocator {

    /** A library we need, by the file names it goes by (the preferred major version first). */
    public record Library(String description, List<String> fileNames) {
        public static final Library DRIVER = new Library("the CUDA driver (libcuda, installed with the NVIDIA driver)",
                List.of("libcuda.so.1", "libcuda.so"));
        public static final Library NVRTC = new Library("NVRTC, the CUDA runtime compiler (CUDA toolkit)",
                List.of("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"));
        public static final Library CUBLASLT = new Library("cuBLASLt (CUDA toolkit)",
                List.of("libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"));
    }

    private final Map<String, String> env;
    private final Path root;

    public LibraryLocator(Map<String, String> env, Path root) {
        this.env = env;
        this.root = root;
    }

    public static LibraryLocator system() {
        return new LibraryLocator(System.getenv(), Path.of("/"));
    }

    /** The directories searched, in order. */
    public SequencedSet<Path> searchPath() {
        SequencedSet<Path> dirs = new LinkedHashSet<>();
        for (String entry : env.getOrDefault("LD_LIBRARY_PATH", "").split(":")) {
            if (!entry.isBlank()) dirs.add(Path.of(entry));
        }
        for (String var : List.of("CUDA_HOME", "CUDA_PATH")) {
            String home = env.get(var);
            if (home != null && !home.isBlank()) toolkitDirs(Path.of(home), dirs);
        }
        toolkitDirs(root.resolve("usr/local/cuda"), dirs);
        for (Path versioned : versionedToolkits()) toolkitDirs(versioned, dirs);
        for (String d : List.of("usr/lib/x86_64-linux-gnu", "usr/lib64", "usr/lib", "usr/local/nvidia/lib64", "usr/lib/wsl/lib")) {
            dirs.add(root.resolve(d));
        }
        return dirs;
    }

    /** The first file of the library in the search path, if any. */
    public Optional<Path> find(Library library) {
        for (String name : library.fileNames()) {
            for (Path dir : searchPath()) {
                Path candidate = dir.resolve(name);
                if (Files.isRegularFile(candidate)) return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** The library's file, or an error that names the library, the file names and every directory tried. */
    public Path require(Library library) {
        return find(library).orElseThrow(() -> missing(library));
    }

    /** The library is nowhere: a one-line summary for the CPU fall-back's note, and every directory tried. */
    public CudaUnavailableException missing(Library library) {
        return new CudaUnavailableException("CUDA is not available: cannot find " + library.description() + ": "
                + library.fileNames().getFirst(), missingMessage(library), null);
    }

    public String missingMessage(Library library) {
        return "CUDA is not available: cannot find " + library.description() + " as any of " + library.fileNames()
                + " in " + searchPath() + ". Install it, or point LD_LIBRARY_PATH or CUDA_HOME at it;"
                + " the CPU backend (--device cpu) needs none of this.";
    }

    private static void toolkitDirs(Path home, SequencedSet<Path> dirs) {
        dirs.add(home.resolve("lib64"));
        dirs.add(home.resolve("lib"));
        dirs.add(home.resolve("targets/x86_64-linux/lib"));
    }

    private List<Path> versionedToolkits() {
        Path local = root.resolve("usr/local");
        if (!Files.isDirectory(local)) return List.of();
        try (Stream<Path> children = Files.list(local)) {
            List<Path> found = new ArrayList<>(children
                    .filter(p -> p.getFileName().toString().matches("cuda-\\d+(\\.\\d+)*"))
                    .toList());
            found.sort(Comparator.comparing((Path p) -> version(p.getFileName().toString().substring(5))).reversed());
            return found;
        } catch (IOException e) {
            return List.of();
        }
    }

    private static VersionKey version(String dotted) {
        String[] parts = dotted.split("\\.");
        return new VersionKey(Integer.parseInt(parts[0]), parts.length > 1 ? Integer.parseInt(parts[1]) : 0);
    }

    private record VersionKey(int major, int minor) implements Comparable<VersionKey> {
        @Override
        public int compareTo(VersionKey o) {
            return major != o.major ? Integer.compare(major, o.major) : Integer.compare(minor, o.minor);
        }
    }
}
