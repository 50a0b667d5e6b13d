package dev.pricer.cuda;

import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.cuda.lib.LibraryLocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/** --device: the CPU stays available wherever CUDA is not. */
class DevicesTest {

    /**
     * A machine with no CUDA driver: opening the GPU fails with the message the library locator gives when neither
     * its directories nor the dynamic linker have the driver (on a GPU host the linker would still find it).
     */
    private static Supplier<Cuda> noGpu(Path emptyRoot) {
        return () -> {
            throw new LibraryLocator(Map.of(), emptyRoot).missing(LibraryLocator.Library.DRIVER);
        };
    }

    @Test
    void cpuIsAlwaysAvailable() {
        Devices.Choice choice = Devices.open("cpu", CudaBackend.Precision.BF16);
        assertInstanceOf(CpuBackend.class, choice.backend());
        assertNull(choice.fallbackReason());
    }

    @Test
    void withoutAGpuTheDefaultIsTheCpuAndSaysWhatIsMissing(@TempDir Path emptyRoot) {
        for (String device : new String[]{null, "auto"}) {
            Devices.Choice choice = Devices.open(device, CudaBackend.Precision.BF16, noGpu(emptyRoot));
            assertInstanceOf(CpuBackend.class, choice.backend());
            assertTrue(choice.fallbackReason().startsWith("CUDA is not available"), choice.fallbackReason());
            assertEquals("CUDA is not available: cannot find the CUDA driver (libcuda, installed with the NVIDIA driver): libcuda.so.1;"
                    + " --device cuda says where it looked", choice.fallbackReason(), "one line, without the folders searched");
        }
    }

    @Test
    void cudaRequestedWithoutAGpuFailsNamingWhatIsMissing(@TempDir Path emptyRoot) {
        var e = assertThrows(CudaUnavailableException.class, () -> Devices.open("cuda", CudaBackend.Precision.BF16, noGpu(emptyRoot)));
        assertTrue(e.getMessage().startsWith("--device cuda: CUDA is not available"), e.getMessage());
        assertTrue(e.getMessage().contains("libcuda.so.1") && e.getMessage().contains("--device cpu"), e.getMessage());
    }

    @Test
    void autoPicksTheGpuWhenUsableAndOtherwiseSaysWhyItFellBack() {
        Devices.Choice choice = Devices.open("auto", CudaBackend.Precision.FLOAT32);
        if (choice.backend() instanceof CudaBackend) {
            assertNull(choice.fallbackReason());
            assertInstanceOf(CudaBackend.class, Devices.open("cuda", CudaBackend.Precision.FLOAT32).backend());
        } else {
            assertInstanceOf(CpuBackend.class, choice.backend());
            assertTrue(choice.fallbackReason().startsWith("CUDA is not available"), choice.fallbackReason());
            var e = assertThrows(CudaUnavailableException.class, () -> Devices.open("cuda", CudaBackend.Precision.FLOAT32));
            assertTrue(e.getMessage().startsWith("--device cuda: " + choice.fallbackReason().split(": cannot find ")[0]), e.getMessage());
        }
    }

    @Test
    void unknownDeviceAndPrecisionAreNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> Devices.open("tpu", CudaBackend.Precision.BF16));
        assertTrue(e.getMessage().contains("'tpu'"));
        assertEquals(CudaBackend.Precision.FLOAT32, Devices.precision("float32"));
        assertEquals(CudaBackend.Precision.BF16, Devices.precision(null));
        var p = assertThrows(IllegalArgumentException.class, () -> Devices.precision("fp8"));
        assertTrue(p.getMessage().contains("'fp8'"));
    }
}
