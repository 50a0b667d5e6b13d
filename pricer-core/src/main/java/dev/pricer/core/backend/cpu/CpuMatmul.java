package dev.pricer.core.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.stream.IntStream;

/**
 * The three float32 matrix products a linear layer needs, on row-major matrices in memory segments.
 * Forward {@code y = x·Wᵀ} is {@link #matmulABt}; backward {@code dx = dy·W} is {@link #matmulAB};
 * the weight gradient {@code dW = dyᵀ·x} is {@link #matmulAtB}. With {@code accumulate} the product is
 * added to {@code c} instead of replacing it, which gradient accumulation and residual paths rely on.
 */
public final class CpuMatmul {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.nativeOrder());

    private CpuMatmul() {
    }

    /** c[m×n] (+)= a[m×k] · b[n×k]ᵀ */
    public static void matmulABt(MemorySegment a, MemorySegment b, MemorySegment c, int m, int n, int k, boolean accumulate) {
        IntStream.range(0, m).parallel().forEach(i -> {
            long aRow = (long) i * k * Float.BYTES;
            for (int j = 0; j < n; j++) {
                float dot = dot(a, aRow, b, (long) j * k * Float.BYTES, k);
                long at = ((long) i * n + j) * Float.BYTES;
                c.set(FLOAT, at, accumulate ? c.get(FLOAT, at) + dot : dot);
            }
        });
    }

    /** c[m×n] (+)= a[m×k] · b[k×n] */
    public static void matmulAB(MemorySegment a, MemorySegment b, MemorySegment c, int m, int n, int k, boolean accumulate) {
        IntStream.range(0, m).parallel().forEach(i -> {
            long cRow = (long) i * n * Float.BYTES;
            if (!accumulate) c.asSlice(cRow, (long) n * Float.BYTES).fill((byte) 0);
            for (int p = 0; p < k; p++) {
                float aip = a.get(FLOAT, ((long) i * k + p) * Float.BYTES);
                axpy(aip, b, (long) p * n * Float.BYTES, c, cRow, n);
            }
        });
    }

    /** c[m×n] (+)= a[k×m]ᵀ · b[k×n] */
    public static void matmulAtB(MemorySegment a, MemorySegment b, MemorySegment c, int m, int n, int k, boolean accumulate) {
        IntStream.range(0, m).parallel().forEach(i -> {
            long cRow = (long) i * n * Float.BYTES;
            if (!accumulate) c.asSlice(cRow, (long) n * Float.BYTES).fill((byte) 0);
            for (int p = 0; p < k; p++) {
                float api = a.get(FLOAT, ((long) p * m + i) * Float.BYTES);
                axpy(api, b, (long) p * n * Float.BYTES, c, cRow, n);
            }
        });
    }

    private static float dot(MemorySegment x, long xOff, MemorySegment y, long yOff, int len) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            FloatVector xv = FloatVector.fromMemorySegment(F, x, xOff + (long) i * Float.BYTES, ByteOrder.nativeOrder());
            FloatVector yv = FloatVector.fromMemorySegment(F, y, yOff + (long) i * Float.BYTES, ByteOrder.nativeOrder());
            acc = xv.fma(yv, acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) sum += x.get(FLOAT, xOff + (long) i * Float.BYTES) * y.get(FLOAT, yOff + (long) i * Float.BYTES);
        return sum;
    }

    private static void axpy(float alpha, MemorySegment x, long xOff, MemorySegment y, long yOff, int len) {
        if (alpha == 0f) return;
        FloatVector av = FloatVector.broadcast(F, alpha);
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) {
            long xo = xOff + (long) i * Float.BYTES, yo = yOff + (long) i * Float.BYTES;
            FloatVector xv = FloatVector.fromMemorySegment(F, x, xo, ByteOrder.nativeOrder());
            FloatVector yv = FloatVector.fromMemorySegment(F, y, yo, ByteOrder.nativeOrder());
            xv.fma(av, yv).intoMemorySegment(y, yo, ByteOrder.nativeOrder());
        }
        for (; i < len; i++) {
            long xo = xOff + (long) i * Float.BYTES, yo = yOff + (long) i * Float.BYTES;
            y.set(FLOAT, yo, y.get(FLOAT, yo) + alpha * x.get(FLOAT, xo));
        }
    }
}
