package dev.pricer.core.backend.cpu;

import dev.pricer.core.backend.Buffer;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Kernel properties the golden model tests cannot see: dropout's mask, index checks, scatter with repeats, SwiGLU's
 * backward into one [dgate | dup] buffer.
 */
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

    /** Rows of 37 (not a whole number of vectors, so every row has a scalar tail) across several parallel blocks. */
    @Test
    void swigluBackwardIntoJoinedRowsMatchesTheTwoBuffersBitForBit() {
        int rows = 1800, cols = 37, n = rows * cols;
        SplittableRandom rnd = new SplittableRandom(5);
        float[][] values = new float[3][n];
        for (float[] v : values) for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextDouble(-4, 4));
        Buffer dh = backend.upload(HostTensor.ofFloats(values[0], n), true), g = backend.upload(HostTensor.ofFloats(values[1], n), true);
        Buffer u = backend.upload(HostTensor.ofFloats(values[2], n), true);
        Buffer dg = backend.allocate(DType.F32, n), du = backend.allocate(DType.F32, n), joined = backend.allocate(DType.F32, 2L * n);
        backend.swigluBackward(dh, g, u, dg, du);
        backend.swigluBackwardGateUp(dh, g, u, joined, rows, cols);
        float[] apart = new float[2 * n], gate = backend.toFloats(dg), up = backend.toFloats(du);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(gate, r * cols, apart, 2 * r * cols, cols);
            System.arraycopy(up, r * cols, apart, (2 * r + 1) * cols, cols);
        }
        assertArrayEquals(apart, backend.toFloats(joined));
        assertThrows(IllegalArgumentException.class, () -> backend.swigluBackwardGateUp(dh, g, u, dg, rows, cols));
    }
}
