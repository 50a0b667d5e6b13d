package dev.pricer.core.backend.cpu;

import dev.pricer.core.backend.Buffer;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Kernel properties the golden model tests cannot see: dropout's mask, index checks, scatter with repeats. */
class CpuKernelsTest {

    private final CpuBackend backend = new CpuBackend();

    @Test
    void dropoutMaskIsTheDocumentedHashInEveryLaneAndKeepsOneMinusP() {
        int n = 100_003;
        float[] ones = new float[n];
        Arrays.fill(ones, 1f);
        Buffer x = backend.upload(HostTensor.ofFloats(ones, n), true), out = backend.allocate(DType.F32, n);
        float p = 0.25f;
        long seed = 0x1234_5678_9ABCL;
        backend.dropout(x, out, p, seed);
        float[] y = backend.toFloats(out);
        int kept = 0;
        for (int i = 0; i < n; i++) {
            boolean keep = (CpuElementwise.hash(i, (int) seed, (int) (seed >>> 32)) >>> 8) >= (int) (p * (1 << 24));
            assertEquals(keep ? 1f / (1f - p) : 0f, y[i], "element " + i);
            if (keep) kept++;
        }
        assertEquals(1 - p, kept / (double) n, 0.01);
    }

    @Test
    void scatterAddSumsRepeatedRows() {
        Buffer src = backend.upload(HostTensor.ofFloats(new float[]{1, 2, 3, 4, 5, 6}, 3, 2), true);
        Buffer idx = backend.upload(HostTensor.ofInts(new int[]{1, 0, 1}, 3), true);
        Buffer table = backend.allocate(DType.F32, 4);
        backend.scatterAddRows(src, idx, table, 3, 2);
        assertArrayEquals(new float[]{3, 4, 6, 8}, backend.toFloats(table));
    }

    @Test
    void outOfRangeIndicesAndTargetsAreRefused() {
        Buffer table = backend.allocate(DType.F32, 4), out = backend.allocate(DType.F32, 2);
        assertThrows(IndexOutOfBoundsException.class, () -> backend.gatherRows(table, backend.upload(HostTensor.ofInts(new int[]{2}, 1), true), out, 1, 2));
        Buffer logits = backend.allocate(DType.F32, 3);
        assertThrows(IndexOutOfBoundsException.class, () -> backend.crossEntropy(logits, backend.upload(HostTensor.ofInts(new int[]{3}, 1), true), 1, 3, 0f));
    }

    @Test
    void crossEntropyOfUniformLogitsIsLogVocabAndItsGradientSumsToZero() {
        int vocab = 1000;
        Buffer logits = backend.allocate(DType.F32, vocab);
        double loss = backend.crossEntropy(logits, backend.upload(HostTensor.ofInts(new int[]{7}, 1), true), 1, vocab, 0.5f);
        assertEquals(Math.log(vocab), loss, 1e-5);
        float[] g = backend.toFloats(logits);
        double sum = 0;
        for (float v : g) sum += v;
        assertEquals(0, sum, 1e-5);
        assertEquals(0.5f * (1f / vocab - 1f), g[7], 1e-6);
    }
}
