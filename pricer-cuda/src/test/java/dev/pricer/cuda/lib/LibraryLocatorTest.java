package dev.pricer.cuda.lib;

import dev.pricer.cuda.CudaUnavailableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Library discovery over a fake file system: search order, toolkit layouts, and the missing-library message. */
class LibraryLocatorTest {

    @TempDir
    Path root;

    private Path touch(String relative) throws IOException {
        Path p = root.resolve(relative);
        Files.createDirectories(p.getParent());
        Files.writeString(p, "not really a library");
        return p;
    }

    @Test
    void ldLibraryPathComesFirst() throws IOException {
        Path mine = touch("opt/mine/libnvrtc.so.13");
        touch("usr/local/cuda/lib64/libnvrtc.so.13");
        var locator = new LibraryLocator(Map.of("LD_LIBRARY_PATH", root.resolve("empty") + ":" + mine.getParent()), root);
        assertEquals(mine, locator.find(LibraryLocator.Library.NVRTC).orElseThrow());
    }

    @Test
    void cudaHomeTargetsLayoutIsSearched() throws IOException {
        Path lib = touch("toolkits/cuda-13.0/targets/x86_64-linux/lib/libcublasLt.so.13");
        var locator = new LibraryLocator(Map.of("CUDA_HOME", root.resolve("toolkits/cuda-13.0").toString()), root);
        assertEquals(lib, locator.find(LibraryLocator.Library.CUBLASLT).orElseThrow());
    }

    @Test
    void newestVersionedToolkitWinsAndNewerSonameIsPreferred() throws IOException {
        touch("usr/local/cuda-12.4/lib64/libnvrtc.so.12");
        touch("usr/local/cuda-9.2/lib64/libnvrtc.so.13");
        Path newest = touch("usr/local/cuda-13.0/targets/x86_64-linux/lib/libnvrtc.so.13");
        var locator = new LibraryLocator(Map.of(), root);
        assertEquals(newest, locator.find(LibraryLocator.Library.NVRTC).orElseThrow());
        List<Path> order = List.copyOf(locator.searchPath());
        assertTrue(order.indexOf(root.resolve("usr/local/cuda-13.0/lib64")) < order.indexOf(root.resolve("usr/local/cuda-12.4/lib64")));
        assertTrue(order.indexOf(root.resolve("usr/local/cuda-12.4/lib64")) < order.indexOf(root.resolve("usr/local/cuda-9.2/lib64")));
    }

    @Test
    void driverIsFoundInTheDistributionLibraryDirectory() throws IOException {
        Path driver = touch("usr/lib/x86_64-linux-gnu/libcuda.so.1");
        assertEquals(driver, new LibraryLocator(Map.of(), root).find(LibraryLocator.Library.DRIVER).orElseThrow());
    }

    @Test
    void missingLibraryErrorNamesItAndWhereItLooked() {
        var locator = new LibraryLocator(Map.of("CUDA_HOME", "/nowhere/cuda"), root);
        var e = assertThrows(CudaUnavailableException.class, () -> locator.require(LibraryLocator.Library.CUBLASLT));
        assertTrue(e.getMessage().contains("cuBLASLt"), e.getMessage());
        assertTrue(e.getMessage().contains("libcublasLt.so.13"), e.getMessage());
        assertTrue(e.getMessage().contains("/nowhere/cuda/lib64"), e.getMessage());
        assertTrue(e.getMessage().contains("--device cpu"), e.getMessage());
    }
}
