package dev.pricer.cuda;

import dev.pricer.core.quant.Nf4Quantizer;
import dev.pricer.core.quant.Nf4Weight;
import dev.pricer.cuda.lib.CublasLt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.IntConsumer;

/**
 * Which cuBLASLt plan for the 8B gate projection at 728 tokens best hides the NF4 dequantization of the next weight
 * ({@link Nf4Scratch}). cuBLASLt's first choices take a whole SM's registers, so a dequantization on another stream only
 * runs between their blocks unless the product is planned for fewer SMs (SM_COUNT_TARGET) than the GPU has.
 *
 * <p>For each SM target given (0: the whole GPU) and each of the heuristic's first {@code CANDIDATES} algorithms for
 * it, forward (X·Wᵀ) and input gradient (dY·W): the time of {@code GEMMS} products alone, and pipelined as a step runs
 * them, each GEMM beside the next weight's dequantization (a gate-sized one, on the side stream), which the next GEMM
 * waits for. One JSON line per target and algorithm; algorithm 0 is the plan {@link Gemm} takes untuned.
 *
 * <p>Usage: {@code GemmBesideDequantBenchmark [CANDIDATES [SM_TARGET ...]]}.
 */
public final class GemmBesideDequantBenchmark {

    private static final int M = 728, HIDDEN = 4096, INTERMEDIATE = 14336;
    private static final int GEMMS = 10;
    private static final long WORKSPACE_BYTES = 32L << 20;

    private GemmBesideDequantBenchmark() {
    }

    public static void main(String[] args) {
        int candidates = args.length > 0 ? Integer.parseInt(args[0]) : 32;
        int[] targets = args.length > 1 ? Arrays.stream(args).skip(1).mapToInt(Integer::parseInt).toArray() : new int[]{0};
        Cuda cuda = Cuda.shared();
        float[] values = Nf4ProductBenchmark.random(INTERMEDIATE * HIDDEN, 0.02, 7);
        Nf4Weight quantized = Nf4Quantizer.quantize(MemorySegment.ofArray(values), new long[]{INTERMEDIATE, HIDDEN}, "float32", true);
        CudaNf4Buffer nf4 = (CudaNf4Buffer) new CudaBackend(cuda, CudaBackend.Precision.BF16).uploadNf4(quantized);
        DeviceBuffer dequantized = cuda.allocate(nf4.elementCount() * ElementType.BF16.bytes());
        IntConsumer dequantizer = Nf4DequantBenchmark.dequantizer(new Kernels(cuda), new CudaNf4Buffer[]{nf4},
                new DeviceBuffer[]{dequantized}, Nf4DequantBenchmark.codebook(cuda), 1);
        Runnable dequantize = () -> dequantizer.accept(0);

        DeviceBuffer w = bf16(cuda, (long) INTERMEDIATE * HIDDEN), x = bf16(cuda, (long) M * HIDDEN), y = bf16(cuda, (long) M * INTERMEDIATE);
        CublasLt lt = cuda.cublasLt();
        MemorySegment handle = lt.createHandle(), start = cuda.newEvent(), done = cuda.newEvent();
        DeviceBuffer workspace = cuda.allocate(WORKSPACE_BYTES);
        MemorySegment preference = lt.preference(WORKSPACE_BYTES, 256);
        int bf16 = ElementType.BF16.cudaType();
        double dequantMs = millis(cuda, dequantize);
        System.out.printf(Locale.ROOT, "{\"gpu\": \"%s\", \"dequantization_ms\": %.4f}%n", cuda.deviceName(), dequantMs);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1f), zero = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 0f);
            for (boolean forward : new boolean[]{true, false}) {
                // Row-major products as column-major ones of the transposes (as Gemm does): forward y = x·wᵀ, input
                // gradient x = y·w.
                MemorySegment wLayout = lt.layout(bf16, HIDDEN, INTERMEDIATE, HIDDEN);
                MemorySegment inLayout = forward ? lt.layout(bf16, HIDDEN, M, HIDDEN) : lt.layout(bf16, INTERMEDIATE, M, INTERMEDIATE);
                MemorySegment outLayout = forward ? lt.layout(bf16, INTERMEDIATE, M, INTERMEDIATE) : lt.layout(bf16, HIDDEN, M, HIDDEN);
                DeviceBuffer in = forward ? x : y, out = forward ? y : x;
                for (int target : targets) {
                    MemorySegment op = lt.operation(CublasLt.COMPUTE_32F, forward ? CublasLt.OP_T : CublasLt.OP_N, CublasLt.OP_N);
                    if (target > 0) lt.targetMultiprocessors(op, target);
                    MemorySegment results = arena.allocate(candidates * CublasLt.HEURISTIC_RESULT_BYTES, 16);
                    int count = lt.heuristic(handle, op, wLayout, inLayout, outLayout, preference, results, forward ? "forward" : "input gradient");
                    for (int i = 0; i < count; i++) {
                        if (CublasLt.state(results, i) != 0 || CublasLt.workspaceBytes(results, i) > WORKSPACE_BYTES) continue;
                        MemorySegment algo = CublasLt.algorithm(results, i);
                        int[] status = {0};
                        Runnable gemm = () -> {
                            if (status[0] == 0) {
                                status[0] = lt.tryMatmul(handle, op, one, w.address(), wLayout, in.address(), inLayout, zero,
                                        out.address(), out.address(), outLayout, algo, workspace.address(), WORKSPACE_BYTES, cuda.stream());
                            }
                        };
                        gemm.run();
                        if (status[0] != 0) continue;
                        double alone = millis(cuda, () -> {
                            for (int g = 0; g < GEMMS; g++) gemm.run();
                        });
                        // As a step runs it: each product's GEMM beside the next weight's dequantization, which the
                        // next GEMM waits for.
                        double pipelined = millis(cuda, () -> {
                            for (int g = 0; g < GEMMS; g++) beside(cuda, start, done, gemm, dequantize);
                        });
                        System.out.printf(Locale.ROOT, "{\"product\": \"%s\", \"sm_target\": %d, \"algorithm\": %d, \"waves\": %.2f, "
                                        + "\"id\": \"%x/%x\", \"gemms_ms\": %.4f, \"pipelined_ms\": %.4f, \"one_after_the_other_ms\": %.4f}%n",
                                forward ? "gate forward" : "gate input gradient", target, i, CublasLt.waves(results, i),
                                algo.get(ValueLayout.JAVA_LONG, 0), algo.get(ValueLayout.JAVA_LONG, 8), alone, pipelined,
                                alone + GEMMS * dequantMs);
                    }
                }
            }
        }
    }

    /**
     * The main-stream work with the dequantizations started on the side stream at the same moment; the main stream
     * then waits for them.
     */
    private static void beside(Cuda cuda, MemorySegment start, MemorySegment done, Runnable work, Runnable dequantizations) {
        cuda.record(start);
        cuda.onSideStream(() -> {
            cuda.await(start);
            dequantizations.run();
            cuda.record(done);
        });
        work.run();
        cuda.await(done);
    }

    private static DeviceBuffer bf16(Cuda cuda, long elements) {
        DeviceBuffer b = cuda.allocate(elements * ElementType.BF16.bytes());
        cuda.fillWords(b, 0x3c003c00);
        return b;
    }

    private static double millis(Cuda cuda, Runnable work) {
        return GpuTimer.millisPerCall(cuda, 1, i -> work.run()).millis();
    }
}
