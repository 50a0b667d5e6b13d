package dev.pricer.core.backend.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuMatmulTest {

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.nativeOrder());

    enum Variant { ABt, AB, AtB, AtBt }

    /** Shapes around every edge: the unpacked path for few rows, ragged tiles, k-blocks, row blocks, task splits. */
    static Stream<Arguments> shapes() {
        int[][] mnk = {
                {1, 1, 1}, {1, 37, 19}, {3, 5, 7}, {7, 33, 300}, {8, 32, 16}, {9, 17, 1}, {13, 31, 257},
                {16, 64, 64}, {29, 45, 513}, {20, 1000, 40}, {16, 100, 300}, {31, 3, 2},
                {32, 32, 32}, {33, 33, 520}, {45, 70, 300}, {64, 1, 40}, {200, 70, 33}, {203, 290, 130}, {40, 600, 24},
        };
        Stream.Builder<Arguments> out = Stream.builder();
        for (Variant v : Variant.values()) {
            for (int[] s : mnk) {
                out.add(Arguments.of(v, s[0], s[1], s[2], false));
                out.add(Arguments.of(v, s[0], s[1], s[2], true));
            }
        }
        return out.build();
    }

    @ParameterizedTest(name = "{0} m={1} n={2} k={3} accumulate={4}")
    @MethodSource("shapes")
    void matchesDoublePrecisionReference(Variant variant, int m, int n, int k, boolean accumulate) {
        Random random = new Random(31L * m + 7L * n + k + variant.ordinal());
        try (Arena arena = Arena.ofShared()) {
            // Operands are slices at odd offsets inside larger segments, as the engine's buffers are.
            float[] a = randoms(random, m * k);
            float[] b = randoms(random, n * k);
            float[] c0 = randoms(random, m * n);
            MemorySegment as = sliceOf(arena, a, 3);
            MemorySegment bs = sliceOf(arena, b, 5);
            MemorySegment cs = sliceOf(arena, c0, 1);
            run(variant, as, bs, cs, m, n, k, accumulate);
            double[] expected = reference(variant, a, b, m, n, k);
            double[] scale = referenceAbs(variant, a, b, m, n, k);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    int at = i * n + j;
                    double want = expected[at] + (accumulate ? c0[at] : 0);
                    double got = cs.getAtIndex(FLOAT, at);
                    double tolerance = 1e-5 * (scale[at] + Math.abs(accumulate ? c0[at] : 0)) + 1e-7;
                    assertTrue(Math.abs(got - want) <= tolerance,
                            () -> variant + " c[" + at / n + "," + at % n + "] = " + got + ", want " + want);
                }
            }
        }
    }

    /**
     * LoRA's down-projection stored transposed, {@code uᵀ = A·xᵀ} (few rows, many columns), must give exactly the
     * floats of {@code x·Aᵀ} (many rows: packed), which the golden fixtures were matched with.
     */
    @ParameterizedTest(name = "m={0} n={1} k={2}")
    @CsvSource({"12, 40, 64", "4, 33, 256", "96, 50, 100"})
    void packedProductIsTheTransposeOfTheSwappedProductBitForBit(int m, int n, int k) {
        Random random = new Random(m + 100L * n + k);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment a = sliceOf(arena, randoms(random, m * k), 1), x = sliceOf(arena, randoms(random, n * k), 2);
            MemorySegment ut = arena.allocate((long) m * n * Float.BYTES), u = arena.allocate((long) n * m * Float.BYTES);
            CpuMatmul.matmulABtPacked(a, x, ut, m, n, k);
            CpuMatmul.matmulABt(x, a, u, n, m, k, false);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    assertEquals(u.getAtIndex(FLOAT, (long) j * m + i), ut.getAtIndex(FLOAT, (long) i * n + j), "uᵀ[" + i + ", " + j + "]");
                }
            }
        }
    }

    @Test
    void runsOnTheCallingThreadWhenAnOperandIsConfinedToIt() {
        int m = 40, n = 70, k = 50;
        Random random = new Random(11);
        float[] a = randoms(random, m * k);
        float[] b = randoms(random, n * k);
        double[] expected = reference(Variant.ABt, a, b, m, n, k);
        try (Arena confined = Arena.ofConfined(); Arena shared = Arena.ofShared()) {
            MemorySegment c = confined.allocate((long) m * n * Float.BYTES);
            CpuMatmul.matmulABt(sliceOf(shared, a, 0), sliceOf(shared, b, 0), c, m, n, k, false);
            for (int i = 0; i < m * n; i++) assertEquals(expected[i], c.getAtIndex(FLOAT, i), 1e-4);
        }
    }

    @Test
    void leavesMemoryAroundTheOutputSliceUntouched() {
        int m = 11, n = 35, k = 20;
        Random random = new Random(5);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment whole = arena.allocate((long) (m * n + 64) * Float.BYTES);
            whole.fill((byte) 0x7f);
            MemorySegment c = whole.asSlice(32L * Float.BYTES, (long) m * n * Float.BYTES);
            for (Variant v : Variant.values()) {
                run(v, sliceOf(arena, randoms(random, m * k), 0), sliceOf(arena, randoms(random, n * k), 0), c, m, n, k, false);
            }
            for (long i = 0; i < 32; i++) {
                assertEquals((byte) 0x7f, whole.get(ValueLayout.JAVA_BYTE, i));
                assertEquals((byte) 0x7f, whole.get(ValueLayout.JAVA_BYTE, whole.byteSize() - 1 - i));
            }
        }
    }

    @Test
    void emptyInnerDimensionClearsOrKeepsTheOutput() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = sliceOf(arena, new float[]{1, 2, 3, 4, 5, 6}, 0);
            CpuMatmul.matmulAB(MemorySegment.NULL, MemorySegment.NULL, c, 2, 3, 0, true);
            assertEquals(6f, c.getAtIndex(FLOAT, 5));
            CpuMatmul.matmulAB(MemorySegment.NULL, MemorySegment.NULL, c, 2, 3, 0, false);
            for (int i = 0; i < 6; i++) assertEquals(0f, c.getAtIndex(FLOAT, i));
        }
    }

    @Test
    void propagatesNaN() {
        try (Arena arena = Arena.ofConfined()) {
            int m = 9, n = 3, k = 4;
            float[] a = new float[m * k];
            a[2 * k + 1] = Float.NaN;
            MemorySegment c = arena.allocate((long) m * n * Float.BYTES);
            CpuMatmul.matmulABt(sliceOf(arena, a, 0), sliceOf(arena, new float[n * k], 0), c, m, n, k, false);
            assertTrue(Float.isNaN(c.getAtIndex(FLOAT, 2L * n)));
            assertEquals(0f, c.getAtIndex(FLOAT, 0));
        }
    }

    @Test
    void rejectsSegmentsTooSmallForTheShape() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(4L * 6 * Float.BYTES);
            MemorySegment b = arena.allocate(5L * 6 * Float.BYTES);
            MemorySegment c = arena.allocate(4L * 5 * Float.BYTES - 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CpuMatmul.matmulABt(a, b, c, 4, 5, 6, false));
            assertTrue(e.getMessage().contains("matmulABt") && e.getMessage().contains("segment c"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> CpuMatmul.matmulAtB(a, b, c, 4, -5, 6, false));
            assertTrue(e.getMessage().contains("n=-5"), e.getMessage());
        }
    }

    private static void run(Variant v, MemorySegment a, MemorySegment b, MemorySegment c, int m, int n, int k, boolean accumulate) {
        switch (v) {
            case ABt -> CpuMatmul.matmulABt(a, b, c, m, n, k, accumulate);
            case AB -> CpuMatmul.matmulAB(a, b, c, m, n, k, accumulate);
            case AtB -> CpuMatmul.matmulAtB(a, b, c, m, n, k, accumulate);
            case AtBt -> CpuMatmul.matmulAtBt(a, b, c, m, n, k, accumulate);
        }
    }

    /** a holds m×k (AtB, AtBt: k×m); b holds n×k (AB, AtB: k×n). */
    private static double[] reference(Variant v, float[] a, float[] b, int m, int n, int k) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) sum += (double) aAt(v, a, i, p, m, k) * bAt(v, b, p, j, n, k);
                c[i * n + j] = sum;
            }
        }
        return c;
    }

    private static double[] referenceAbs(Variant v, float[] a, float[] b, int m, int n, int k) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) sum += Math.abs((double) aAt(v, a, i, p, m, k) * bAt(v, b, p, j, n, k));
                c[i * n + j] = sum;
            }
        }
        return c;
    }

    private static float aAt(Variant v, float[] a, int i, int p, int m, int k) {
        return v == Variant.AtB || v == Variant.AtBt ? a[p * m + i] : a[i * k + p];
    }

    private static float bAt(Variant v, float[] b, int p, int j, int n, int k) {
        return v == Variant.ABt || v == Variant.AtBt ? b[j * k + p] : b[p * n + j];
    }

    private static float[] randoms(Random random, int count) {
        float[] x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float) random.nextGaussian();
        return x;
    }

    /** The values, copied into a native segment {@code lead} floats past its start. */
    private static MemorySegment sliceOf(Arena arena, float[] values, int lead) {
        MemorySegment whole = arena.allocate((long) (values.length + lead + 3) * Float.BYTES);
        MemorySegment slice = whole.asSlice((long) lead * Float.BYTES, (long) values.length * Float.BYTES);
        MemorySegment.copy(values, 0, slice, FLOAT, 0, values.length);
        return slice;
    }
}
