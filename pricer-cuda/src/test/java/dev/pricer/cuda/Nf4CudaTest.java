package dev.pricer.cuda;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.Nf4Buffer;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.model.Batch;
import dev.pricer.core.model.LlamaModel;
import dev.pricer.core.model.LossSum;
import dev.pricer.core.model.Quantization;
import dev.pricer.core.quant.Nf4Quantizer;
import dev.pricer.core.quant.Nf4Weight;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NF4 on the GPU: the dequantization kernel against the CPU's values bit for bit, the products against the CPU
 * backend's, and a tiny NF4 model's LoRA training step against the CPU's.
 */
class Nf4CudaTest {

    private static Nf4Weight weight(int rows, int cols, boolean doubleQuant, long seed) {
        float[] values = GpuTestSupport.random(new SplittableRandom(seed), rows * cols, 0.05);
        return Nf4Quantizer.quantize(MemorySegment.ofArray(values), new long[]{rows, cols}, "float32", doubleQuant);
    }

    /** Ragged last blocks (4000 and 561 elements), an odd tail byte (561), several nested blocks (131072 elements), plain absmax. */
    @ParameterizedTest
    @CsvSource({"40, 100, true", "33, 17, true", "256, 512, true", "64, 64, false"})
    void dequantizationMatchesTheCpuBitForBit(int rows, int cols, boolean doubleQuant) {
        Cuda cuda = GpuTestSupport.cuda();
        Nf4Weight w = weight(rows, cols, doubleQuant, rows * 31L + cols);
        float[] cpu = w.dequantize();
        for (CudaBackend.Precision precision : CudaBackend.Precision.values()) {
            CudaBackend backend = new CudaBackend(cuda, precision);
            ElementType t = precision == CudaBackend.Precision.BF16 ? ElementType.BF16 : ElementType.F32;
            float[] gpu = GpuTestSupport.download(t, backend.dequantize((CudaNf4Buffer) backend.uploadNf4(w), t), cpu.length);
            for (int i = 0; i < cpu.length; i++) {
                float expected = t == ElementType.BF16 ? GpuTestSupport.bf16ToFloat(CudaBackend.toBf16(cpu[i])) : cpu[i];
                int e = i;
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(gpu[i]),
                        () -> t + " element " + e + " of [" + rows + ", " + cols + "]: CPU " + expected + ", GPU " + gpu[e]);
            }
        }
    }

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
        return read(be, y);
    }

    private static float[] backward(Backend be, Nf4Weight w, float[] dy, int m, int n, int k) {
        Nf4Buffer q = be.uploadNf4(w);
        Buffer dyb = be.upload(HostTensor.ofFloats(dy, m, n), true), dx = be.allocate(DType.F32, (long) m * k);
        be.matmulNf4AB(dyb, q, dx, m, k, n, false);
        return read(be, dx);
    }

    private static float[] read(Backend be, Buffer b) {
        MemorySegment host = Arena.ofAuto().allocate(b.length() * Float.BYTES, 8);
        be.copyToHost(b, host);
        return host.toArray(ValueLayout.JAVA_FLOAT);
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
