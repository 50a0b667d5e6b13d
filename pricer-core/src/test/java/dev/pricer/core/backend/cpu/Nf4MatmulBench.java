package dev.pricer.core.backend.cpu;

import dev.pricer.core.quant.Nf4Quantizer;
import dev.pricer.core.quant.Nf4Weight;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * {@link Nf4Matmul} against {@link CpuMatmul} on the same weights (the f32 side gets the dequantized NF4
 * weight), at Llama 3.2 1B projection shapes, side by side in one process. Not a test: run it with
 * {@code bench/nf4-matmul.sh}. The last line is generation: one row through the seven projections of four
 * decoder layers (its n is the number of weights, k is 0). Each line: {@code name variant m n k}, then wall seconds of f32 and NF4 and their
 * ratio, then the same in CPU seconds of all threads; the best of the timed repeats counts, since other processes on
 * a shared machine only ever add time.
 */
public final class Nf4MatmulBench {

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    private record Shape(String name, int n, int k) {
    }

    private static final int GENERATION_LAYERS = 4;

    /** hidden 2048, intermediate 8192, 32 query and 8 key/value heads of 64. */
    private static final Shape[] LLAMA_1B = {
            new Shape("q_proj", 2048, 2048), new Shape("k_proj", 512, 2048),
            new Shape("up_proj", 8192, 2048), new Shape("down_proj", 2048, 8192)};

    public static void main(String[] args) {
        int[] rows = args.length > 0 ? java.util.Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray() : new int[]{1, 256};
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        System.out.println("# threads=" + Runtime.getRuntime().availableProcessors() + " lanes=" + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length()
                + " java=" + System.getProperty("java.version"));
        System.out.println("# name variant m n k | wall: f32_s nf4_s f32/nf4 | cpu: f32_s nf4_s f32/nf4");
        Random random = new Random(1);
        warmUp(rows, random);
        for (Shape s : LLAMA_1B) {
            try (Arena arena = Arena.ofShared()) {
                MemorySegment weight = gaussian(arena, random, (long) s.n() * s.k(), 0.02f);
                Nf4Weight nf4 = Nf4Quantizer.quantize(weight, new long[]{s.n(), s.k()}, "bfloat16", true);
                MemorySegment dense = arena.allocate((long) s.n() * s.k() * Float.BYTES, 64);
                dense.copyFrom(MemorySegment.ofArray(nf4.dequantize()));
                for (int m : rows) {
                    MemorySegment x = gaussian(arena, random, (long) m * s.k(), 1f);
                    MemorySegment dy = gaussian(arena, random, (long) m * s.n(), 1f);
                    MemorySegment y = arena.allocate((long) m * s.n() * Float.BYTES, 64);
                    MemorySegment dx = arena.allocate((long) m * s.k() * Float.BYTES, 64);
                    report(s, "ABt", m, repeats,
                            () -> CpuMatmul.matmulABt(x, dense, y, m, s.n(), s.k(), false),
                            () -> Nf4Matmul.matmulABt(x, nf4, y, m, false));
                    report(s, "AB", m, repeats,
                            () -> CpuMatmul.matmulAB(dy, dense, dx, m, s.k(), s.n(), false),
                            () -> Nf4Matmul.matmulAB(dy, nf4, dx, m, false));
                }
            }
        }
        generation(random, repeats);
    }

    /**
     * One generated token's projections through {@link #GENERATION_LAYERS} decoder layers, each weight its own
     * (about 1 GiB of f32 in all, so the f32 weights stream from memory as they do in real generation).
     */
    private static void generation(Random random, int repeats) {
        Shape[] layer = {new Shape("q_proj", 2048, 2048), new Shape("k_proj", 512, 2048), new Shape("v_proj", 512, 2048),
                new Shape("o_proj", 2048, 2048), new Shape("gate_proj", 8192, 2048), new Shape("up_proj", 8192, 2048),
                new Shape("down_proj", 2048, 8192)};
        try (Arena arena = Arena.ofShared()) {
            List<Shape> shapes = new ArrayList<>();
            List<MemorySegment> dense = new ArrayList<>();
            List<Nf4Weight> nf4 = new ArrayList<>();
            for (int l = 0; l < GENERATION_LAYERS; l++) {
                for (Shape s : layer) {
                    MemorySegment weight = gaussian(arena, random, (long) s.n() * s.k(), 0.02f);
                    Nf4Weight q = Nf4Quantizer.quantize(weight, new long[]{s.n(), s.k()}, "bfloat16", true);
                    weight.copyFrom(MemorySegment.ofArray(q.dequantize()));
                    shapes.add(s);
                    dense.add(weight);
                    nf4.add(q);
                }
            }
            MemorySegment x = gaussian(arena, random, 8192, 1f), y = arena.allocate(8192L * Float.BYTES, 64);
            report(new Shape(GENERATION_LAYERS + "_layers", 7 * GENERATION_LAYERS, 0), "ABt", 1, repeats, () -> {
                for (int i = 0; i < shapes.size(); i++) CpuMatmul.matmulABt(x, dense.get(i), y, 1, shapes.get(i).n(), shapes.get(i).k(), false);
            }, () -> {
                for (Nf4Weight w : nf4) Nf4Matmul.matmulABt(x, w, y, 1, false);
            });
        }
    }

    /**
     * Runs every kernel for a few seconds first: on a loaded machine the JIT's compiler threads get little CPU,
     * and the first shapes would otherwise be timed partly before the vector code is compiled.
     */
    private static void warmUp(int[] rows, Random random) {
        int n = 1024, k = 1024;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment weight = gaussian(arena, random, (long) n * k, 0.02f);
            Nf4Weight nf4 = Nf4Quantizer.quantize(weight, new long[]{n, k}, "bfloat16", true);
            for (int m : rows) {
                MemorySegment x = gaussian(arena, random, (long) m * k, 1f), y = arena.allocate((long) m * n * Float.BYTES, 64);
                for (long end = System.nanoTime() + 3_000_000_000L; System.nanoTime() < end; ) {
                    CpuMatmul.matmulABt(x, weight, y, m, n, k, false);
                    CpuMatmul.matmulAB(y, weight, x, m, k, n, false);
                    Nf4Matmul.matmulABt(x, nf4, y, m, false);
                    Nf4Matmul.matmulAB(y, nf4, x, m, false);
                }
            }
        }
    }

    /**
     * The two run alternately, so a burst of load from other processes hits both alike. Wall time and the
     * CPU time of all threads are both kept (best of the repeats): on a loaded machine the CPU time is steadier.
     */
    private static void report(Shape s, String variant, int m, int repeats, Runnable f32, Runnable nf4) {
        for (int i = 0; i < 5; i++) {
            f32.run();
            nf4.run();
        }
        long[] bestF32 = {Long.MAX_VALUE, Long.MAX_VALUE}, bestNf4 = {Long.MAX_VALUE, Long.MAX_VALUE};
        for (int i = 0; i < repeats; i++) {
            time(f32, bestF32);
            time(nf4, bestNf4);
        }
        System.out.printf("%s %s %d %d %d %.6f %.6f %.2f %.6f %.6f %.2f%n", s.name(), variant, m, s.n(), s.k(),
                bestF32[0] / 1e9, bestNf4[0] / 1e9, (double) bestF32[0] / bestNf4[0],
                bestF32[1] / 1e9, bestNf4[1] / 1e9, (double) bestF32[1] / bestNf4[1]);
    }

    private static void time(Runnable product, long[] best) {
        long cpu0 = threadCpuTime(), t0 = System.nanoTime();
        product.run();
        best[0] = Math.min(best[0], System.nanoTime() - t0);
        best[1] = Math.min(best[1], threadCpuTime() - cpu0);
    }

    /** CPU time of every live thread, in nanoseconds (the process total is only counted in 10 ms ticks). */
    private static long threadCpuTime() {
        long sum = 0;
        for (long id : THREADS.getAllThreadIds()) sum += Math.max(0, THREADS.getThreadCpuTime(id));
        return sum;
    }

    private static MemorySegment gaussian(Arena arena, Random random, long n, float scale) {
        MemorySegment s = arena.allocate(n * Float.BYTES, 64);
        for (long i = 0; i < n; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian() * scale);
        return s;
    }
}
