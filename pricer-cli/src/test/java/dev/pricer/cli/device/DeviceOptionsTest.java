package dev.pricer.cli.device;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.cuda.Cuda;
import dev.pricer.cuda.CudaUnavailableException;
import dev.pricer.cuda.lib.LibraryLocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --device} as the model-running commands parse it, on a machine made to have no CUDA library at all. */
public class DeviceOptionsTest {

    @CommandLine.Command(name = "holder")
    static final class Holder {
        @CommandLine.Mixin
        DeviceOptions device;
    }

    private static DeviceOptions parse(String... args) {
        Holder h = new Holder();
        new CommandLine(h).parseArgs(args);
        return h.device;
    }

    /** Opening the GPU fails as on a host without the driver, with the library locator's message. */
    private static Supplier<Cuda> noGpu(Path emptyRoot) {
        return () -> {
            new LibraryLocator(Map.of(), emptyRoot).require(LibraryLocator.Library.DRIVER);
            throw new AssertionError("found a CUDA driver under an empty root");
        };
    }

    @Test
    void withoutAGpuTheDefaultIsTheCpuAndTheNoteSaysWhy(@TempDir Path emptyRoot) {
        List<String> notes = new ArrayList<>();
        Backend backend = parse().open(notes::add, noGpu(emptyRoot));
        assertInstanceOf(CpuBackend.class, backend);
        assertEquals(1, notes.size());
        assertTrue(notes.getFirst().startsWith("running on the CPU: CUDA is not available") && notes.getFirst().contains("libcuda.so.1"), notes.toString());
        assertFalse(notes.getFirst().contains("lib64"), "the note on every fallback leaves the search path to --device cuda: " + notes);
    }

    @Test
    void cpuIsTakenWithoutLookingForAGpu() {
        List<String> notes = new ArrayList<>();
        Backend backend = parse("--device", "cpu").open(notes::add, () -> { throw new AssertionError("the GPU was opened"); });
        assertInstanceOf(CpuBackend.class, backend);
        assertTrue(notes.isEmpty(), notes.toString());
    }

    @Test
    void cudaWithoutAGpuIsAnErrorNamingWhatIsMissing(@TempDir Path emptyRoot) {
        var e = assertThrows(CudaUnavailableException.class, () -> parse("--device", "cuda").open(s -> { }, noGpu(emptyRoot)));
        assertTrue(e.getMessage().startsWith("--device cuda: CUDA is not available: cannot find the CUDA driver"), e.getMessage());
        assertTrue(e.getMessage().contains("--device cpu"), e.getMessage());
        assertTrue(e.getMessage().contains("lib64"), "the error names every directory tried: " + e.getMessage());
    }

    @Test
    void unknownDeviceOrPrecisionIsNamed() {
        var d = assertThrows(IllegalArgumentException.class, () -> parse("--device", "tpu").open(s -> { }));
        assertTrue(d.getMessage().contains("'tpu'"), d.getMessage());
        var p = assertThrows(IllegalArgumentException.class, () -> parse("--device", "cpu", "--precision", "fp8").open(s -> { }));
        assertTrue(p.getMessage().contains("'fp8'"), p.getMessage());
    }

    /** True where this JVM can open a GPU; the end-to-end "no GPU" checks of the commands skip there. */
    public static boolean gpuUsable() {
        try {
            Cuda.shared();
            return true;
        } catch (CudaUnavailableException e) {
            return false;
        }
    }
}
