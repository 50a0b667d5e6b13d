package dev.pricer.cuda;

import dev.pricer.core.backend.AdamW;
import dev.pricer.core.backend.AttentionShape;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.Nf4Buffer;
import dev.pricer.core.quant.Nf4Quantizer;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Closing a backend gives back all the device memory it held for itself (NF4 scratch, attention scratch and
 * statistics, bf16 copies, the optimizer's tables), and none of its callers' buffers: `pricer eval --baselines` opens
 * one backend after another in one process.
 */
class CudaBackendCloseTest {

    @Test
    void closingFreesTheBackendsOwnMemoryAndLeavesItsCallersBuffers() {
        GpuTestSupport.cuda();
        // A Cuda of its own, so that no other test's buffers, freed when the collector finds them, move the count.
        Cuda cuda = Cuda.open();
        // The GEMM workspace belongs to the Cuda object, not to a backend: a throwaway backend's product makes it now.
        CudaBackend warm = new CudaBackend(cuda, CudaBackend.Precision.FLOAT32);
        Buffer square = warm.allocate(DType.F32, 64), squared = warm.allocate(DType.F32, 64);
        warm.matmulABt(square, square, squared, 8, 8, 8, false);
        warm.synchronize();

        long start = cuda.bytesInUse();
        CudaBackend backend = new CudaBackend(cuda, CudaBackend.Precision.BF16);
        long ownAtStart = cuda.bytesInUse() - start;
        int m = 64, n = 128, k = 256;
        SplittableRandom rnd = new SplittableRandom(3);
        Buffer a = backend.upload(HostTensor.ofFloats(GpuTestSupport.random(rnd, m * k, 1), m, k), true);
        Buffer b = backend.upload(HostTensor.ofFloats(GpuTestSupport.random(rnd, n * k, 0.05), n, k), true);
        Nf4Buffer w = backend.uploadNf4(Nf4Quantizer.quantize(MemorySegment.ofArray(GpuTestSupport.random(rnd, n * k, 0.05)),
                new long[]{n, k}, "float32", true));
        Buffer y = backend.allocate(DType.F32, (long) m * n), dx = backend.allocate(DType.F32, (long) m * k);
        List<Attention> attentions = List.of(new Attention(backend, new AttentionShape(2, 16, 16, 0, 4, 2, 64), rnd),
                new Attention(backend, new AttentionShape(2, 16, 16, 0, 4, 2, 32), rnd));
        List<Buffer> params = List.of(put(backend, rnd, 300), put(backend, rnd, 40)), grads = List.of(put(backend, rnd, 300), put(backend, rnd, 40));
        List<Buffer> moments = List.of(put(backend, rnd, 300), put(backend, rnd, 40)), squares = List.of(put(backend, rnd, 300), put(backend, rnd, 40));
        long callers = cuda.bytesInUse();

        backend.matmulABt(a, b, y, m, n, k, false);
        backend.matmulNf4ABt(a, w, y, m, n, k, true);
        backend.matmulNf4AB(y, w, dx, m, k, n, false);
        attentions.forEach(Attention::run);
        backend.sumOfSquares(grads);
        backend.adamw(params, grads, moments, squares, new AdamW(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1), 0.5f);
        float[] product = warm.toFloats(y);
        long held = cuda.bytesInUse() - callers;
        assertTrue(held >= 2L * n * k, "the backend holds at least one dequantized weight of " + 2L * n * k + " bytes: " + held);

        backend.close();
        assertEquals(callers - ownAtStart, cuda.bytesInUse(), "after closing, only the callers' buffers are left");
        backend.close();
        assertEquals(callers - ownAtStart, cuda.bytesInUse(), "closing again frees nothing twice");
        assertArrayEquals(product, warm.toFloats(y), "a caller's buffer keeps its values");
        for (Runnable use : List.<Runnable>of(() -> backend.matmulABt(a, b, y, m, n, k, false), () -> backend.matmulNf4ABt(a, w, y, m, n, k, true),
                () -> backend.allocate(DType.F32, 8), () -> backend.toFloats(y))) {
            assertEquals("this CUDA backend is closed", assertThrows(IllegalStateException.class, use::run).getMessage());
        }
        Reference.reachabilityFence(List.of(square, squared, a, b, w, dx, attentions, params, grads, moments, squares));
    }

    private static Buffer put(CudaBackend backend, SplittableRandom rnd, int n) {
        return backend.upload(HostTensor.ofFloats(GpuTestSupport.random(rnd, n, 1), n), true);
    }

    /** Buffers for one attention forward and backward pass of a shape. */
    private record Attention(CudaBackend backend, AttentionShape s, Buffer q, Buffer k, Buffer v, Buffer out, Buffer saved,
                             Buffer lengths, Buffer dq, Buffer dk, Buffer dv) {

        Attention(CudaBackend backend, AttentionShape s, SplittableRandom rnd) {
            this(backend, s, activations(backend, rnd, s, s.numHeads()), activations(backend, rnd, s, s.numKvHeads()),
                    activations(backend, rnd, s, s.numKvHeads()), activations(backend, rnd, s, s.numHeads()),
                    backend.allocate(DType.F32, backend.attentionSavedLength(s)), backend.allocate(DType.I32, s.batch()),
                    activations(backend, rnd, s, s.numHeads()), activations(backend, rnd, s, s.numKvHeads()),
                    activations(backend, rnd, s, s.numKvHeads()));
            backend.copyFromHost(MemorySegment.ofArray(new int[]{s.queryLen(), s.queryLen() - 3}), lengths);
        }

        private static Buffer activations(CudaBackend backend, SplittableRandom rnd, AttentionShape s, int heads) {
            int n = s.batch() * s.queryLen() * heads * s.headDim();
            Buffer b = backend.allocateActivations(n);
            backend.copyFromHost(MemorySegment.ofArray(GpuTestSupport.random(rnd, n, 1)), b);
            return b;
        }

        void run() {
            backend.attentionForward(q, k, v, lengths, out, saved, s);
            backend.attentionBackward(out, q, k, v, out, saved, lengths, dq, dk, dv, s);
        }
    }
}
