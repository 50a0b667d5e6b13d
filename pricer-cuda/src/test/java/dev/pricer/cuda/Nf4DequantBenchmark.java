package dev.pricer.cuda;

import dev.pricer.core.quant.Nf4;
import dev.pricer.core.quant.Nf4Quantizer;
import dev.pricer.core.quant.Nf4Weight;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * The NF4 dequantization kernel alone, into bf16, on the
 * Llama-3.1-8B projection shapes quantized with double quantization as the engine does, against a device-to-device
 * copy moving the same number of bytes (half of them read, half written) as the bandwidth the GPU achieves.
 *
 * <p>Each measurement is GPU time between CUDA events around {@code LAUNCHES} back-to-back launches ({@link GpuTimer}:
 * enqueued while a wait kernel holds the stream, the median of three; gpu_bound false would say the host fell behind).
 * Rotated: the launches cycle through copies of the weight and of the output, at least 512 MB in all, so each
 * launch reads its codes from and writes its output to memory rather than the L2 cache (the engine's case: every
 * weight is read once a pass); not rotated: one weight and output over and over, for comparison. GB/s counts the
 * bytes a dequantization must move, whatever the kernel does: codes, block codes, nested absmax and map read, bf16
 * written.
 *
 * <p>Prints one JSON line per shape and rotation for the copy and the kernel, then for each the time of one decoder layer's seven
 * dequantizations (q, k, v, o, gate, up, down) and of a training step's 2 × 32 layers of them (forward and input
 * gradient, no checkpointing), rotated. of_copy: the copy's time over the kernel's, the share of the achievable
 * bandwidth the kernel reaches.
 *
 * <p>Usage: {@code Nf4DequantBenchmark [LAUNCHES] [--shape=ROWSxCOLUMNS] [--once]}. {@code --shape} measures that one
 * shape only, without the summaries; {@code --once} launches the kernel once per shape and times nothing, for a
 * profiler (Nsight Compute) to measure.
 */
public final class Nf4DequantBenchmark {

    /** rows, columns and how many of the layer's seven projections have that shape. */
    private record Shape(int rows, int columns, int perLayer) {
        long elements() {
            return (long) rows * columns;
        }

        /** Codes, one block code per 64 elements, one nested absmax per 256 blocks, the nested map; bf16 out. */
        long bytes() {
            long blocks = (elements() + 63) / 64;
            return elements() / 2 + blocks + (blocks + 255) / 256 * Float.BYTES + 256 * Float.BYTES + elements() * 2;
        }

        @Override
        public String toString() {
            return rows + "x" + columns;
        }
    }

    private static final List<Shape> SHAPES = List.of(new Shape(4096, 4096, 2), new Shape(1024, 4096, 2),
            new Shape(14336, 4096, 2), new Shape(4096, 14336, 1));
    private static final long ROTATED_BYTES = 512L << 20;
    private static final int LAYERS = 32;

    private Nf4DequantBenchmark() {
    }

    public static void main(String[] args) {
        int launches = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        List<String> rest = args.length > 1 ? Arrays.asList(args).subList(1, args.length) : List.of();
        List<Shape> shapes = rest.stream().filter(a -> a.startsWith("--shape=")).findFirst()
                .map(a -> SHAPES.stream().filter(s -> s.toString().equals(a.substring("--shape=".length()))).toList())
                .orElse(SHAPES);
        if (shapes.isEmpty()) throw new IllegalArgumentException("no shape " + rest + " among " + SHAPES);
        boolean once = rest.contains("--once");
        Cuda cuda = Cuda.shared();
        CudaBackend backend = new CudaBackend(cuda, CudaBackend.Precision.BF16);
        Kernels k = new Kernels(cuda);
        DeviceBuffer codebook = codebook(cuda);
        System.out.printf(Locale.ROOT, "{\"gpu\": \"%s\", \"resident_blocks_per_sm\": %d, \"multiprocessors\": %d}%n",
                cuda.deviceName(), cuda.residentBlocks(cuda.function("nf4.cu", "nf4_dequant_bf16"), 256), cuda.multiprocessors());
        Map<String, Double> layerMs = new LinkedHashMap<>();
        double layerBytes = 0;
        for (Shape shape : shapes) {
            float[] values = Nf4ProductBenchmark.random(Math.toIntExact(shape.elements()), 0.02, shape.rows() * 31L + shape.columns());
            Nf4Weight w = Nf4Quantizer.quantize(MemorySegment.ofArray(values), new long[]{shape.rows(), shape.columns()}, "float32", true);
            int copies = (int) Math.max(2, (ROTATED_BYTES + shape.bytes() - 1) / shape.bytes());
            CudaNf4Buffer[] weights = new CudaNf4Buffer[copies];
            DeviceBuffer[] outputs = new DeviceBuffer[copies], copyFrom = new DeviceBuffer[copies], copyTo = new DeviceBuffer[copies];
            for (int i = 0; i < copies; i++) {
                weights[i] = (CudaNf4Buffer) backend.uploadNf4(w);
                outputs[i] = cuda.allocate(shape.elements() * ElementType.BF16.bytes());
                copyFrom[i] = cuda.allocate(shape.bytes() / 2);
                copyTo[i] = cuda.allocate(shape.bytes() / 2);
                cuda.zero(copyFrom[i]);
            }
            layerBytes += (double) shape.bytes() * shape.perLayer();
            if (once) {
                dequantizer(k, weights, outputs, codebook, 1).accept(0);
                cuda.synchronize();
            }
            for (boolean rotated : once ? new boolean[0] : new boolean[]{true, false}) {
                int cycle = rotated ? copies : 1;
                GpuTimer.Result copy = GpuTimer.millisPerCall(cuda, launches, i -> cuda.copy(copyFrom[i % cycle], copyTo[i % cycle], shape.bytes() / 2));
                print(shape, "device-to-device copy", rotated, copy, copy.millis());
                if (rotated) layerMs.merge("device-to-device copy", copy.millis() * shape.perLayer(), Double::sum);
                GpuTimer.Result r = GpuTimer.millisPerCall(cuda, launches, dequantizer(k, weights, outputs, codebook, cycle));
                print(shape, "nf4_dequant", rotated, r, copy.millis());
                if (rotated) layerMs.merge("nf4_dequant", r.millis() * shape.perLayer(), Double::sum);
            }
            for (int i = 0; i < copies; i++) {
                for (DeviceBuffer b : new DeviceBuffer[]{outputs[i], copyFrom[i], copyTo[i]}) cuda.free(b);
            }
            cuda.synchronize();
        }
        if (once || shapes.size() < SHAPES.size()) return;
        double bytes = layerBytes;
        layerMs.forEach((what, ms) -> System.out.printf(Locale.ROOT,
                "{\"summary\": \"%s\", \"layer_ms\": %.4f, \"step_ms\": %.2f, \"GBps\": %.0f, \"of_copy\": %.2f}%n",
                what, ms, 2 * LAYERS * ms, bytes / ms / 1e6, layerMs.get("device-to-device copy") / ms));
    }

    /** The NF4 codebook on the device, as the dequantization kernel takes it. */
    static DeviceBuffer codebook(Cuda cuda) {
        try (Arena arena = Arena.ofConfined()) {
            return cuda.upload(arena.allocateFrom(ValueLayout.JAVA_FLOAT, Nf4.codebook()));
        }
    }

    /** Launch i dequantizes copy i mod cycle of the weight into the same copy of the output. */
    static IntConsumer dequantizer(Kernels k, CudaNf4Buffer[] weights, DeviceBuffer[] outputs, DeviceBuffer codebook, int cycle) {
        return i -> {
            CudaNf4Buffer q = weights[i % cycle];
            k.nf4Dequantize(ElementType.BF16, outputs[i % cycle], q.packed, q.codes, q.absmax, q.nestedAbsmax, q.nestedMap,
                    codebook, q.blockSize, q.nestedBlockSize, q.offset, q.elementCount());
        };
    }

    private static void print(Shape shape, String what, boolean rotated, GpuTimer.Result r, double copyMs) {
        System.out.printf(Locale.ROOT, "{\"shape\": \"%s\", \"what\": \"%s\", \"rotated\": %b, \"ms\": %.5f, \"GBps\": %.0f, \"of_copy\": %.2f, \"gpu_bound\": %b}%n",
                shape, what, rotated, r.millis(), shape.bytes() / r.millis() / 1e6, copyMs / r.millis(), r.gpuBound());
    }
}
