package dev.pricer.bench;

import dev.pricer.core.backend.cpu.CpuMatmul;
import dev.pricer.core.backend.cpu.CpuThreads;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * GFLOP/s of {@link CpuMatmul} on the shapes listed in a shapes file (see {@code bench/matmul-shapes.txt}),
 * one line per shape: {@code name variant m n k best_seconds gflops}. {@code bench/matmul.sh} runs it next to
 * the OpenBLAS peer on the same file and the same thread count.
 *
 * <p>Usage: {@code MatmulBench SHAPES_FILE [REPEATS]}. Each shape runs a few warm-up products, then REPEATS
 * timed ones; the best time counts, since other processes on a shared machine only ever add time.
 */
public final class MatmulBench {

    record Shape(String name, String variant, int m, int n, int k) {
        double flops() {
            return 2.0 * m * n * k;
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: MatmulBench SHAPES_FILE [REPEATS]");
            System.exit(2);
        }
        List<Shape> shapes = readShapes(Path.of(args[0]));
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        System.out.println("# pricer CpuMatmul, threads=" + CpuThreads.count() + ", lanes=" + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length());
        Random random = new Random(1);
        for (Shape s : shapes) {
            try (Arena arena = Arena.ofShared()) {
                MemorySegment a = randomSegment(arena, random, (long) s.m() * s.k());
                MemorySegment b = randomSegment(arena, random, (long) s.n() * s.k());
                MemorySegment c = arena.allocate((long) s.m() * s.n() * Float.BYTES, 64);
                for (int i = 0; i < 3; i++) run(s, a, b, c);
                long best = Long.MAX_VALUE;
                for (int i = 0; i < repeats; i++) {
                    long t0 = System.nanoTime();
                    run(s, a, b, c);
                    best = Math.min(best, System.nanoTime() - t0);
                }
                double seconds = best / 1e9;
                System.out.printf("%s %s %d %d %d %.6f %.2f%n", s.name(), s.variant(), s.m(), s.n(), s.k(), seconds, s.flops() / seconds / 1e9);
            }
        }
    }

    private static void run(Shape s, MemorySegment a, MemorySegment b, MemorySegment c) {
        switch (s.variant()) {
            case "ABt" -> CpuMatmul.matmulABt(a, b, c, s.m(), s.n(), s.k(), false);
            case "AB" -> CpuMatmul.matmulAB(a, b, c, s.m(), s.n(), s.k(), false);
            case "AtB" -> CpuMatmul.matmulAtB(a, b, c, s.m(), s.n(), s.k(), false);
            default -> throw new IllegalArgumentException("unknown variant " + s.variant() + " for shape " + s.name());
        }
    }

    static List<Shape> readShapes(Path file) throws IOException {
        return Files.readAllLines(file).stream()
                .map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                .map(line -> {
                    String[] f = line.split("\\s+");
                    if (f.length != 5) throw new IllegalArgumentException(file + ": expected 'name variant m n k', got: " + line);
                    return new Shape(f[0], f[1], Integer.parseInt(f[2]), Integer.parseInt(f[3]), Integer.parseInt(f[4]));
                })
                .toList();
    }

    private static MemorySegment randomSegment(Arena arena, Random random, long floats) {
        MemorySegment s = arena.allocate(floats * Float.BYTES, 64);
        for (long i = 0; i < floats; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian());
        return s;
    }
}
