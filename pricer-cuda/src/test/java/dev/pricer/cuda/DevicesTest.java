package dev.pricer.cuda;

import dev.pricer.core.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** --device: the CPU stays available wherever CUDA is not. */
class DevicesTest {

    @Test
    void cpuIsAlwaysAvailable() {
        Devices.Choice choice = Devices.open("cpu", CudaBackend.Precision.BF16);
        assertInstanceOf(CpuBackend.class, choice.backend());
        assertNull(choice.fallbackReason());
    }

    @Test
    void autoPicksTheGpuWhenUsableAndOtherwiseSaysWhyItFellBack() {
        Devices.Choice choice = Devices.open("auto", CudaBackend.Precision.FLOAT32);
        if (choice.backend() instanceof CudaBackend) {
            assertNull(choice.fallbackReason());
        } else {
            assertInstanceOf(CpuBackend.class, choice.backend());
            assertTrue(choice.fallbackReason().startsWith("CUDA is not available"), choice.fallbackReason());
            var e = assertThrows(CudaUnavailableException.class, () -> Devices.open("cuda", CudaBackend.Precision.FLOAT32));
            assertEquals(choice.fallbackReason(), e.getMessage());
        }
    }

    @Test
    void unknownDeviceIsNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> Devices.open("tpu", CudaBackend.Precision.BF16));
        assertTrue(e.getMessage().contains("'tpu'"));
    }
}
