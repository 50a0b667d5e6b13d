package dev.pricer.cuda;

import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.Nf4Buffer;
import dev.pricer.core.quant.Nf4;
import dev.pricer.core.quant.Nf4Quantizer;
import dev.pricer.core.quant.Nf4Weight;
import dev.pricer.core.tensor.DType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NF4 scratch with the next weight dequantized ahead on the side stream: every product still sees exactly its own
 * weight's values, when the guess was right, when it was wrong, and while the main stream is held back so that a
 * side-stream write not ordered after the slot's last reader would land before that reader ran.
 */
class Nf4ScratchTest {

    private static final int COLUMNS = 256;
    /**
     * Five weights of different sizes, so the slots grow, used in a repeating order as a training step does; more
     * weights than slots at every depth tested, so slots are overwritten ahead.
     */
    private static final int[] ROWS = {384, 128, 512, 256, 192};

    /** beside: SMs left to dequantizations beside a GEMM, 0 for none (each weight ahead starts after the GEMM). */
    @ParameterizedTest
    @CsvSource({"1, 0", "2, 0", "3, 0", "1, 16", "2, 16", "3, 16"})
    void everyProductSeesItsWeightsValuesWithGuessesRightAndWrong(int depth, int beside) {
        int[] usual = {0, 1, 2, 3, 4};
        Nf4Scratch.Counts counts = takeInSteps(depth, beside, usual, usual, usual, usual, new int[]{1, 0, 2, 4, 3}, usual);
        // From the third step on, once two steps agreed, the products but the first were guessed (the first too from
        // the fourth); the changed order of the fifth was not.
        assertTrue(counts.guessedRight() >= 9, counts.toString());
        assertTrue(counts.guessedWrong() >= 1, counts.toString());
        // Weights 0, 2 and 3 are at least half the largest: their dequantizations ahead start beside a GEMM.
        if (beside > 0) assertTrue(counts.gemmsBeside() > 0, counts.toString());
        else assertEquals(0, counts.gemmsBeside(), counts.toString());
    }

    /**
     * As with gradient checkpointing, where a layer's last product is followed in turn by two different ones: a
     * successor that changes every time is never guessed, and the steady ones still are.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void successorsThatAlternateAreNotGuessed(int depth) {
        int[] a = {0, 1, 2, 3, 4}, b = {0, 1, 2, 4, 3};
        Nf4Scratch.Counts counts = takeInSteps(depth, 16, a, b, a, b, a, b);
        assertEquals(0, counts.guessedWrong(), counts.toString());
        assertTrue(counts.guessedRight() >= 6, counts.toString());
    }

    /**
     * Multiplies by the weights in each step's order, checking that every product saw exactly its weight's values, and
     * returns the scratch's counts. Each product is a copy of the values, after a wait that holds the main stream: a
     * dequantization ahead into a slot not ordered after its last reader, or into the product's own, would land
     * before the copy ran.
     */
    private static Nf4Scratch.Counts takeInSteps(int depth, int beside, int[]... steps) {
        Cuda cuda = GpuTestSupport.cuda();
        CudaBackend backend = new CudaBackend(cuda, CudaBackend.Precision.BF16, null, false, 0, 0);
        Kernels kernels = new Kernels(cuda);
        DeviceBuffer codebook = GpuTestSupport.upload(ElementType.F32, Nf4.codebook());
        List<CudaNf4Buffer> weights = new ArrayList<>();
        List<float[]> expected = new ArrayList<>();
        for (int i = 0; i < ROWS.length; i++) {
            CudaNf4Buffer w = (CudaNf4Buffer) backend.uploadNf4(weight(ROWS[i], i));
            weights.add(w);
            DeviceBuffer values = cuda.allocate(w.elementCount() * ElementType.BF16.bytes());
            kernels.nf4Dequantize(ElementType.BF16, values, w.packed, w.codes, w.absmax, w.nestedAbsmax, w.nestedMap, codebook,
                    w.blockSize, w.nestedBlockSize, w.offset, w.elementCount());
            expected.add(GpuTestSupport.download(ElementType.BF16, values, Math.toIntExact(w.elementCount())));
        }
        Nf4Scratch scratch = new Nf4Scratch(cuda, kernels, codebook, depth, beside);
        for (int[] order : steps) {
            List<DeviceBuffer> seen = new ArrayList<>();
            for (int i : order) {
                scratch.multiply(weights.get(i), ElementType.BF16, true, (slot, multiprocessors) -> {
                    cuda.launch(cuda.function("gpu_wait.cu", "gpu_wait"), 1, 1, 1, 1, 0, 2_000_000L);
                    DeviceBuffer copy = cuda.allocate(slot.bytes());
                    cuda.copy(slot, copy, slot.bytes());
                    seen.add(copy);
                });
            }
            for (int j = 0; j < order.length; j++) {
                float[] got = GpuTestSupport.download(ElementType.BF16, seen.get(j), expected.get(order[j]).length);
                assertArrayEquals(expected.get(order[j]), got, "weight " + order[j] + " in step " + Arrays.toString(order) + ", " + depth + " ahead");
                cuda.free(seen.get(j));
            }
        }
        return scratch.counts();
    }

    /**
     * The engine's products through the backend, ahead and in line: the same bits, step after step. With
     * dequantizations beside the GEMMs, those GEMMs are planned for fewer SMs, and cuBLASLt may then sum in another
     * order, so there the same values to float rounding.
     */
    @ParameterizedTest
    @CsvSource({"1, 0", "2, 0", "1, 16", "2, 16"})
    void productsAheadAreTheProductsInLine(int depth, int beside) {
        Cuda cuda = GpuTestSupport.cuda();
        float[][] ahead = steps(new CudaBackend(cuda, CudaBackend.Precision.BF16, null, false, depth, beside));
        float[][] inLine = steps(new CudaBackend(cuda, CudaBackend.Precision.BF16, null, false, 0, 0));
        assertEquals(inLine.length, ahead.length);
        for (int i = 0; i < ahead.length; i++) {
            if (beside == 0) assertArrayEquals(inLine[i], ahead[i], "product " + i);
            else assertArrayEquals(inLine[i], ahead[i], 1e-4f, "product " + i);
        }
    }

    /** Three steps of a forward pass over the weights in order and input gradients in reverse order. */
    private static float[][] steps(CudaBackend be) {
        int m = 40;
        SplittableRandom rnd = new SplittableRandom(3);
        List<Nf4Buffer> weights = new ArrayList<>();
        for (int i = 0; i < ROWS.length; i++) weights.add(be.uploadNf4(weight(ROWS[i], i)));
        Buffer x = GpuTestSupport.put(be, GpuTestSupport.bf16Random(rnd, m * COLUMNS), true);
        List<float[]> out = new ArrayList<>();
        for (int step = 0; step < 3; step++) {
            for (int i = 0; i < ROWS.length; i++) {
                Buffer y = be.allocate(DType.F32, (long) m * ROWS[i]);
                be.matmulNf4ABt(x, weights.get(i), y, m, ROWS[i], COLUMNS, false);
                out.add(be.toFloats(y));
            }
            for (int i = ROWS.length - 1; i >= 0; i--) {
                Buffer dy = GpuTestSupport.put(be, GpuTestSupport.bf16Random(new SplittableRandom(step * 10L + i), m * ROWS[i]), true);
                Buffer dx = be.allocate(DType.F32, (long) m * COLUMNS);
                be.matmulNf4AB(dy, weights.get(i), dx, m, COLUMNS, ROWS[i], false);
                out.add(be.toFloats(dx));
            }
        }
        return out.toArray(float[][]::new);
    }

    private static Nf4Weight weight(int rows, long seed) {
        float[] values = GpuTestSupport.random(new SplittableRandom(seed), rows * COLUMNS, 0.05);
        return Nf4Quantizer.quantize(MemorySegment.ofArray(values), new long[]{rows, COLUMNS}, "float32", true);
    }
}
