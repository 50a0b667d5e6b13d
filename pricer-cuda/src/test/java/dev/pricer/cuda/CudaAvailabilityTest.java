package dev.pricer.cuda;

import dev.pricer.cuda.lib.LibraryLocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Opening CUDA either works or fails with an error that names what is missing; it never crashes. */
class CudaAvailabilityTest {

    @Test
    void openEitherSucceedsOrNamesWhatIsMissing() {
        try {
            Cuda cuda = Cuda.shared();
            assertTrue(cuda.arch().startsWith("sm_"), cuda.arch());
            assertFalse(cuda.deviceName().isBlank());
        } catch (CudaUnavailableException e) {
            assertTrue(e.getMessage().startsWith("CUDA is not available"), e.getMessage());
        }
    }

    @Test
    void withNoLibrariesAnywhereTheDriverIsNamed(@TempDir Path emptyRoot) {
        LibraryLocator nowhere = new LibraryLocator(Map.of(), emptyRoot);
        assertTrue(nowhere.find(LibraryLocator.Library.DRIVER).isEmpty());
        String message = nowhere.missingMessage(LibraryLocator.Library.DRIVER);
        assertTrue(message.contains("libcuda.so.1") && message.contains("CUDA driver"), message);
    }
}
