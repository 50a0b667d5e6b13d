package dev.pricer.cuda.kernel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The on-disk kernel cache. The compiler here is a recording stand-in: these tests are about keying and
 * storage, and NVRTC itself is exercised by every GPU test.
 */
class KernelCacheTest {

    @TempDir
    Path dir;

    private final List<String> compiled = new ArrayList<>();

    private final KernelCache.Compiler compiler = new KernelCache.Compiler() {
        @Override
        public String version() {
            return "test 1.0";
        }

        @Override
        public byte[] compile(KernelSource source, List<String> options) {
            compiled.add(source.fileName() + " " + options);
            return ("image of " + source.text() + " for " + options).getBytes(StandardCharsets.UTF_8);
        }
    };

    private static KernelSource source(String text) {
        return new KernelSource("k.cu", text, new LinkedHashMap<>(Map.of("common.cuh", "// header")));
    }

    @Test
    void compilesOncePerSourceAndArchitecture() {
        var cache = new KernelCache(dir, compiler);
        byte[] first = cache.cubin(source("a"), "sm_90");
        assertArrayEquals(first, cache.cubin(source("a"), "sm_90"));
        assertArrayEquals(first, new KernelCache(dir, compiler).cubin(source("a"), "sm_90"), "read back by a new process");
        assertEquals(1, compiled.size());
        cache.cubin(source("a"), "sm_80");
        cache.cubin(source("b"), "sm_90");
        assertEquals(3, compiled.size());
        assertTrue(compiled.get(1).contains("--gpu-architecture=sm_80"));
    }

    @Test
    void keyCoversHeadersCompilerAndOptions() {
        var a = source("x");
        var b = new KernelSource("k.cu", "x", new LinkedHashMap<>(Map.of("common.cuh", "// changed header")));
        assertNotEquals(a.hash("v1", List.of("o")), b.hash("v1", List.of("o")));
        assertNotEquals(a.hash("v1", List.of("o")), a.hash("v2", List.of("o")));
        assertNotEquals(a.hash("v1", List.of("o")), a.hash("v1", List.of("p")));
        assertEquals(a.hash("v1", List.of("o")), source("x").hash("v1", List.of("o")));
    }

    @Test
    void damagedEntriesAreRecompiledAndReplaced() throws IOException {
        var cache = new KernelCache(dir, compiler);
        byte[] image = cache.cubin(source("a"), "sm_90");
        Path entry = cache.entry(source("a"), "sm_90");
        byte[] stored = Files.readAllBytes(entry);
        Files.write(entry, java.util.Arrays.copyOf(stored, stored.length / 2));
        assertArrayEquals(image, cache.cubin(source("a"), "sm_90"));
        assertEquals(2, compiled.size(), "a truncated entry is compiled again");
        stored = Files.readAllBytes(entry);
        stored[12] ^= 1;
        Files.write(entry, stored);
        assertArrayEquals(image, cache.cubin(source("a"), "sm_90"));
        assertEquals(3, compiled.size(), "a flipped bit is compiled again");
        assertArrayEquals(image, cache.cubin(source("a"), "sm_90"));
        assertEquals(3, compiled.size(), "the replacement is valid");
    }

    @Test
    void unwritableCacheStillYieldsTheKernelAndLeavesNoTemporaryFiles() throws IOException {
        Path blocker = dir.resolve("file-not-dir");
        Files.writeString(blocker, "x");
        var cache = new KernelCache(blocker.resolve("cache"), compiler);
        assertTrue(new String(cache.cubin(source("a"), "sm_90"), StandardCharsets.UTF_8).startsWith("image of a"));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(blocker), files.toList());
        }
    }

    @Test
    void defaultDirectoryFollowsTheEnvironment() {
        assertEquals(Path.of("/x/k"), KernelCache.defaultDirectory(Map.of("PRICER_CUDA_CACHE", "/x/k", "PRICER_HOME", "/h")));
        assertEquals(Path.of("/h/cuda-kernels"), KernelCache.defaultDirectory(Map.of("PRICER_HOME", "/h")));
    }
}
