package dev.pricer.core.backend;

import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The optimizer step over all parameters at once is the per-parameter step: same norm, same updates, same order. */
class OptimizerStepTest {

    private final Backend be = new CpuBackend();
    private final SplittableRandom rnd = new SplittableRandom(5);

    private Buffer random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return be.upload(HostTensor.ofFloats(v, n), true);
    }

    private Buffer copyOf(Buffer b) {
        Buffer c = be.allocate(DType.F32, b.length());
        be.copy(b, c);
        return c;
    }

    @Test
    void listFormsMatchTheOneByOneStep() {
        int[] sizes = {7, 300, 64};
        List<Buffer> params = new ArrayList<>(), grads = new ArrayList<>(), m = new ArrayList<>(), v = new ArrayList<>();
        for (int n : sizes) {
            params.add(random(n));
            grads.add(random(n));
            m.add(be.allocate(DType.F32, n));
            v.add(be.allocate(DType.F32, n));
        }
        List<Buffer> params2 = params.stream().map(this::copyOf).toList(), grads2 = grads.stream().map(this::copyOf).toList();
        List<Buffer> m2 = m.stream().map(this::copyOf).toList(), v2 = v.stream().map(this::copyOf).toList();

        double each = 0;
        for (Buffer g : grads2) each += be.sumOfSquares(g);
        assertEquals(each, be.sumOfSquares(grads), 0.0);

        float clip = (float) (1.0 / Math.sqrt(each));
        AdamW hyper = new AdamW(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 3);
        be.adamw(params, grads, m, v, hyper, clip);
        for (int i = 0; i < sizes.length; i++) {
            be.scale(grads2.get(i), clip);
            be.adamw(params2.get(i), grads2.get(i), m2.get(i), v2.get(i), hyper);
        }
        for (int i = 0; i < sizes.length; i++) {
            assertArrayEquals(be.toFloats(params2.get(i)), be.toFloats(params.get(i)), "parameter " + i);
            assertArrayEquals(be.toFloats(grads2.get(i)), be.toFloats(grads.get(i)), "gradient " + i + " scaled in place");
            assertArrayEquals(be.toFloats(m2.get(i)), be.toFloats(m.get(i)), "first moment " + i);
            assertArrayEquals(be.toFloats(v2.get(i)), be.toFloats(v.get(i)), "second moment " + i);
        }
    }
}
