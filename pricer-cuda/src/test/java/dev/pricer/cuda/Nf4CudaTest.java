package dev.pricer.cuda;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.Nf4Buffer;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.model.Batch;
import dev.pricer.core.model.LlamaModel;
import dev.pricer.core.model.LossSum;
import dev.pricer.core.model.Quantization;
import dev.pricer.core.quant.BlockScales;
import dev.pricer.core.quant.Nf4;
import dev.pricer.core.quant.Nf4Quantizer;
import dev.pricer.core.quant.Nf4Weight;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * NF4 on the GPU: the dequantization kernel against the CPU's values bit for bit, the products
 * against the CPU backend's, and a tiny NF4 model's LoRA training step against the CPU's.
 */
class Nf4CudaTest {

    private static Nf4Weight weight(int rows, int cols, boolean doubleQuant, long seed) {
        float[] values = GpuTestSupport.random(new SplittableRandom(seed), rows * cols, 0.05);
        return Nf4Quantizer.quantize(MemorySegment.ofArray(values), new long[]{rows, cols}, "float32", doubleQuant);
    }

    /**
     * Ragged last blocks (4000 and 561 elements), an odd tail byte (561), several nested blocks and whole warp chunks
     * of 1024 elements (131072 elements), plain absmax.
     */
    @ParameterizedTest
    @CsvSource({"40, 100, true", "33, 17, true", "256, 512, true", "64, 64, false"})
    void dequantizationMatchesTheCpuBitForBit(int rows, int cols, boolean doubleQuant) {
        Nf4Weight w = weight(rows, cols, doubleQuant, rows * 31L + cols);
        assertMatchesTheCpu(w, w.dequantize());
    }

    /** Blocks smaller than a thread's 32 elements (a scale per word of codes) and larger ones, plain absmax. */
    @ParameterizedTest
    @ValueSource(ints = {8, 16, 32, 128})
    void powerOfTwoBlockSizesDequantizeAsOnTheCpu(int blockSize) {
        Nf4Weight w = weight(24, 40, false, blockSize);
        float[] absmax = GpuTestSupport.random(new SplittableRandom(blockSize), (24 * 40 + blockSize - 1) / blockSize, 1);
        Nf4Weight blocks = new Nf4Weight(w.shape(), w.dtype(), blockSize, w.packed(), new BlockScales.Plain(absmax));
        assertMatchesTheCpu(blocks, blocks.dequantize());
    }

    /** Infinite and NaN absmax (a weight that overflowed): infinities and NaNs where the CPU has them. */
    @Test
    void nonFiniteScalesDequantizeAsOnTheCpu() {
        Nf4Weight w = weight(8, 64, false, 11);
        float[] absmax = ((BlockScales.Plain) w.scales()).absmax().clone();
        absmax[1] = Float.POSITIVE_INFINITY;
        absmax[2] = Float.NEGATIVE_INFINITY;
        absmax[5] = Float.NaN;
        Nf4Weight overflowed = new Nf4Weight(w.shape(), w.dtype(), 64, w.packed(), new BlockScales.Plain(absmax));
        assertMatchesTheCpu(overflowed, overflowed.dequantize());
    }

    /**
     * 36.9 M elements, double-quantized: more than one pass of the kernel's grid-stride loop on an H100 or H200
     * (132 multiprocessors; a pass is at most 34.6 M elements), then a tail of 620 after the last whole chunk of
     * 1024 and a ragged last block.
     */
    @Test
    void aWeightLargerThanOnePassOfTheGridDequantizesAsOnTheCpu() {
        GpuTestSupport.cuda();
        Nf4Weight w = weight(8191, 4500, true, 99);
        assertMatchesTheCpu(w, w.dequantize());
    }

    @Test
    void blockSizesThatAreNotPowersOfTwoAreRejected() {
        CudaBackend backend = new CudaBackend(GpuTestSupport.cuda(), CudaBackend.Precision.BF16);
        Nf4Weight w = weight(6, 64, false, 12);
        Nf4Weight blocksOf48 = new Nf4Weight(w.shape(), w.dtype(), 48, w.packed(), new BlockScales.Plain(new float[8]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.uploadNf4(blocksOf48));
        assertTrue(e.getMessage().contains("NF4 block size 48 is not a power of two"), e.getMessage());
        BlockScales.DoubleQuantized d = (BlockScales.DoubleQuantized) weight(6, 64, true, 13).scales();
        Nf4Weight nestedOf100 = new Nf4Weight(w.shape(), w.dtype(), 64, w.packed(),
                new BlockScales.DoubleQuantized(d.codes(), d.nestedAbsmax(), d.nestedMap(), 100, d.offset()));
        e = assertThrows(IllegalArgumentException.class, () -> backend.uploadNf4(nestedOf100));
        assertTrue(e.getMessage().contains("NF4 nested block size 100 is not a power of two"), e.getMessage());
    }

    /**
     * w dequantized by the kernel, in both element types, into an output filled with NaN, so an element the kernel
     * forgets fails: against the CPU's values {@code cpu} bit for bit (NaN as NaN).
     */
    private static void assertMatchesTheCpu(Nf4Weight w, float[] cpu) {
        Cuda cuda = GpuTestSupport.cuda();
        CudaNf4Buffer q = (CudaNf4Buffer) new CudaBackend(cuda, CudaBackend.Precision.BF16).uploadNf4(w);
        int n = Math.toIntExact(q.elementCount());
        DeviceBuffer codebook = GpuTestSupport.upload(ElementType.F32, Nf4.codebook());
        for (ElementType t : ElementType.values()) {
            DeviceBuffer out = GpuTestSupport.poisoned(t, n);
            new Kernels(cuda).nf4Dequantize(t, out, q.packed, q.codes, q.absmax, q.nestedAbsmax, q.nestedMap, codebook,
                    q.blockSize, q.nestedBlockSize, q.offset, n);
            float[] gpu = GpuTestSupport.download(t, out, n);
            cuda.free(out);
            for (int i = 0; i < n; i++) {
                float expected = t == ElementType.BF16 ? GpuTestSupport.bf16ToFloat(CudaBackend.toBf16(cpu[i])) : cpu[i];
                boolean same = Float.isNaN(expected) ? Float.isNaN(gpu[i]) : Float.floatToRawIntBits(expected) == Float.floatToRawIntBits(gpu[i]);
                if (!same) fail(t + ": element " + i + " of " + w + ": CPU " + expected + ", GPU " + gpu[i]);
            }
        }
        cuda.free(codebook);
    }

    /**
     * A sequence of products over three weights of different shapes in changing orders, each weight's forward
     * product followed by its input gradient, which finds the weight still dequantized in scratch (as does a
     * forward product right after the same weight's input gradient), while every other product dequantizes over
     * another weight's values. Every product equals the first one of its kind over that weight, bit for bit: with no
     * dequantization started beside a GEMM, since a GEMM planned for fewer SMs may sum in another order.
     */
    @ParameterizedTest
    @CsvSource({"FLOAT32", "BF16"})
    void productsReuseAWeightStillInScratchAndOnlyThatOne(CudaBackend.Precision precision) {
        Cuda cuda = GpuTestSupport.cuda();
        int m = 37;
        int[][] shapes = {{96, 160}, {200, 100}, {64, 64}};
        CudaBackend backend = new CudaBackend(cuda, precision, null, false, CudaBackend.NF4_AHEAD_DEFAULT, 0);
        Nf4Buffer[] weights = new Nf4Buffer[shapes.length];
        Buffer[] x = new Buffer[shapes.length], dy = new Buffer[shapes.length];
        SplittableRandom rnd = new SplittableRandom(21);
        for (int i = 0; i < shapes.length; i++) {
            int n = shapes[i][0], k = shapes[i][1];
            weights[i] = backend.uploadNf4(weight(n, k, true, 30 + i));
            x[i] = backend.upload(HostTensor.ofFloats(GpuTestSupport.random(rnd, m * k, 1), m, k), false);
            dy[i] = backend.upload(HostTensor.ofFloats(GpuTestSupport.random(rnd, m * n, 1), m, n), false);
        }
        int[] order = {0, 1, 2, 0, 1, 2, 0, 1, 2, 2, 1, 0, 1, 0, 2};
        float[][] firstY = new float[shapes.length][], firstDx = new float[shapes.length][];
        for (int step = 0; step < order.length; step++) {
            int i = order[step], n = shapes[i][0], k = shapes[i][1];
            Buffer y = backend.allocate(DType.F32, (long) m * n), dx = backend.allocate(DType.F32, (long) m * k);
            backend.matmulNf4ABt(x[i], weights[i], y, m, n, k, false);
            backend.matmulNf4AB(dy[i], weights[i], dx, m, k, n, false);
            float[] ys = backend.toFloats(y), dxs = backend.toFloats(dx);
            if (firstY[i] == null) {
                firstY[i] = ys;
                firstDx[i] = dxs;
            } else {
                int s = step;
                assertArrayEquals(firstY[i], ys, () -> precision + " forward product of weight " + i + " at step " + s);
                assertArrayEquals(firstDx[i], dxs, () -> precision + " input gradient of weight " + i + " at step " + s);
            }
        }
    }

    /** Through the backend, as the engine runs them. */
    @ParameterizedTest
    @CsvSource({"FLOAT32, 1e-5", "BF16, 1e-2"})
    void productsMatchTheCpuBackend(CudaBackend.Precision precision, double tolerance) {
        Cuda cuda = GpuTestSupport.cuda();
        int m = 37, n = 96, k = 160;
        Nf4Weight w = weight(n, k, true, 5);
        SplittableRandom rnd = new SplittableRandom(6);
        float[] x = GpuTestSupport.random(rnd, m * k, 1), dy = GpuTestSupport.random(rnd, m * n, 1), start = GpuTestSupport.random(rnd, m * n, 1);
        Backend gpu = new CudaBackend(cuda, precision), cpu = new CpuBackend();
        for (boolean accumulate : new boolean[]{false, true}) {
            float[] expectedY = forward(cpu, w, x, start, m, n, k, accumulate), actualY = forward(gpu, w, x, start, m, n, k, accumulate);
            GpuTestSupport.assertClose(precision + " forward, accumulate " + accumulate, actualY, toDouble(expectedY), tolerance);
        }
        float[] expectedDx = backward(cpu, w, dy, m, n, k), actualDx = backward(gpu, w, dy, m, n, k);
        GpuTestSupport.assertClose(precision + " input gradient", actualDx, toDouble(expectedDx), tolerance);
    }

    private static float[] forward(Backend be, Nf4Weight w, float[] x, float[] start, int m, int n, int k, boolean accumulate) {
        Nf4Buffer q = be.uploadNf4(w);
        Buffer xb = be.upload(HostTensor.ofFloats(x, m, k), true), y = be.upload(HostTensor.ofFloats(start, m, n), true);
        be.matmulNf4ABt(xb, q, y, m, n, k, accumulate);
        return be.toFloats(y);
    }

    private static float[] backward(Backend be, Nf4Weight w, float[] dy, int m, int n, int k) {
        Nf4Buffer q = be.uploadNf4(w);
        Buffer dyb = be.upload(HostTensor.ofFloats(dy, m, n), true), dx = be.allocate(DType.F32, (long) m * k);
        be.matmulNf4AB(dyb, q, dx, m, k, n, false);
        return be.toFloats(dx);
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private static Path fixture(String name) {
        try {
            return Path.of(Nf4CudaTest.class.getResource("/hf-tiny-llama/README.md").toURI()).getParent().resolve(name);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private record Step(LossSum loss, List<float[]> grads) {
    }

    private static Step step(Backend backend, boolean checkpointing) {
        Map<String, HostTensor> expected = SafeTensors.readAll(fixture("tiny-llama-expected.safetensors"));
        HostTensor ids = expected.get("input_ids");
        long[] shape = ids.shape();
        Batch batch = new Batch((int) shape[0], (int) shape[1], ids.toIntArray(), expected.get("labels").toIntArray(), null);
        try (LlamaModel model = LlamaModel.load(fixture("tiny-llama"), fixture("tiny-llama-lora"), backend, Quantization.NF4)) {
            assertEquals(Quantization.NF4, model.quantization());
            model.setGradientCheckpointing(checkpointing);
            model.seedDropout(7);
            model.zeroGradients();
            LossSum loss = model.forwardBackward(batch, 1f / batch.labelTokens());
            return new Step(loss, model.trainableParameters().stream().map(p -> model.download(p.grad(), p.shape()).toFloatArray()).toList());
        }
    }

    @Test
    void aTinyNf4ModelTrainsOnTheGpuAsOnTheCpu() {
        Cuda cuda = GpuTestSupport.cuda();
        Step cpu = step(new CpuBackend(), false);
        for (boolean checkpointing : new boolean[]{false, true}) {
            Step f32 = step(new CudaBackend(cuda, CudaBackend.Precision.FLOAT32), checkpointing);
            assertEquals(cpu.loss().sum(), f32.loss().sum(), Math.abs(cpu.loss().sum()) * 1e-5, "float32 loss, checkpointing " + checkpointing);
            for (int i = 0; i < cpu.grads().size(); i++) {
                GpuTestSupport.assertClose("float32 LoRA gradient " + i + ", checkpointing " + checkpointing, f32.grads().get(i), toDouble(cpu.grads().get(i)), 1e-4);
            }
        }
        Step bf16 = step(new CudaBackend(cuda, CudaBackend.Precision.BF16), true);
        double relative = Math.abs(bf16.loss().sum() - cpu.loss().sum()) / Math.abs(cpu.loss().sum());
        assertTrue(relative < 2e-2, "bf16 NF4 loss " + bf16.loss().sum() + " vs CPU " + cpu.loss().sum() + ": relative " + relative);
    }
}
