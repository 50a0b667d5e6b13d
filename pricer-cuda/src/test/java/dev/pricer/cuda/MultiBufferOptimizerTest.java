package dev.pricer.cuda;

import dev.pricer.core.backend.AdamW;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.tensor.DType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static dev.pricer.cuda.GpuTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The optimizer step over a list of buffers of different lengths, which the CUDA backend runs as one launch per
 * kernel (the gradient norm's sum of squares, then AdamW with the clipping factor), against the CPU backend's
 * buffer-by-buffer step, over three steps so that the cached device table of addresses is reused.
 */
class MultiBufferOptimizerTest {

    private static final int[] LENGTHS = {1, 7, 4096, 131072, 333, 32 * 1024 + 5};

    private static List<Buffer> upload(Backend be, List<float[]> values) {
        List<Buffer> out = new ArrayList<>();
        for (float[] v : values) {
            Buffer b = be.allocate(DType.F32, v.length);
            try (Arena arena = Arena.ofConfined()) {
                be.copyFromHost(arena.allocateFrom(ValueLayout.JAVA_FLOAT, v), b);
            }
            out.add(b);
        }
        return out;
    }

    @Test
    void oneLaunchStepMatchesTheCpuBufferByBuffer() {
        SplittableRandom rnd = new SplittableRandom(3);
        List<float[]> params = new ArrayList<>(), grads = new ArrayList<>();
        for (int n : LENGTHS) {
            params.add(random(rnd, n, 0.1));
            grads.add(random(rnd, n, 1));
        }
        CudaBackend gpu = new CudaBackend(cuda(), CudaBackend.Precision.FLOAT32);
        try (CpuBackend cpu = new CpuBackend()) {
            List<List<Buffer>> onGpu = state(gpu, params, grads), onCpu = state(cpu, params, grads);
            for (int step = 1; step <= 3; step++) {
                double gpuSquares = gpu.sumOfSquares(onGpu.get(1)), cpuSquares = cpu.sumOfSquares(onCpu.get(1));
                assertEquals(cpuSquares, gpuSquares, cpuSquares * 1e-6, "sum of squares, step " + step);
                float clip = (float) Math.min(1.0, 50.0 / Math.sqrt(cpuSquares));
                AdamW h = new AdamW(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, step);
                gpu.adamw(onGpu.get(0), onGpu.get(1), onGpu.get(2), onGpu.get(3), h, clip);
                cpu.adamw(onCpu.get(0), onCpu.get(1), onCpu.get(2), onCpu.get(3), h, clip);
                for (int part = 0; part < 4; part++) {
                    for (int i = 0; i < LENGTHS.length; i++) {
                        float[] want = cpu.toFloats(onCpu.get(part).get(i));
                        double[] ref = new double[want.length];
                        for (int j = 0; j < want.length; j++) ref[j] = want[j];
                        assertClose("step " + step + ", part " + part + ", buffer " + i, gpu.toFloats(onGpu.get(part).get(i)), ref, 1e-6);
                    }
                }
            }
        }
    }

    /** Parameters, gradients, first and second moments. */
    private static List<List<Buffer>> state(Backend be, List<float[]> params, List<float[]> grads) {
        List<float[]> zeros = params.stream().map(p -> new float[p.length]).toList();
        return List.of(upload(be, params), upload(be, grads), upload(be, zeros), upload(be, zeros));
    }
}
