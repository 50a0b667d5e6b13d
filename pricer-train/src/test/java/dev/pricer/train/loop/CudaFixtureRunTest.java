package dev.pricer.train.loop;

import dev.pricer.cuda.Cuda;
import dev.pricer.cuda.CudaBackend;
import dev.pricer.cuda.CudaUnavailableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fixture's 12-step run of {@link FixtureRunTest} on the GPU, in float32 precision: the same loss, learning
 * rate, gradient norm and final adapter as transformers + PEFT, within 1e-4. Skipped where no GPU is usable.
 */
class CudaFixtureRunTest {

    @TempDir
    Path run;

    @Test
    void twelveStepsOnTheGpuMatchTransformersAndPeft() throws Exception {
        Cuda cuda = null;
        String unavailable = null;
        try {
            cuda = Cuda.shared();
        } catch (CudaUnavailableException e) {
            unavailable = e.getMessage();
        }
        String reason = unavailable;
        assumeTrue(cuda != null, () -> "no GPU: " + reason);
        FixtureRunTest.runAndCheck(new CudaBackend(cuda, CudaBackend.Precision.FLOAT32), run);
    }
}
