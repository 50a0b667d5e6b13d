package dev.pricer.cuda;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.tensor.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Shared by the GPU tests: the device (or a skip where there is none), transfers, and error measures. */
final class GpuTestSupport {

    private static Cuda cuda;
    private static String unavailable;

    private GpuTestSupport() {
    }

    /** The GPU, or the test is skipped (JUnit assumption) with the reason CUDA is unavailable. */
    static synchronized Cuda cuda() {
        if (cuda == null && unavailable == null) {
            try {
                cuda = Cuda.shared();
            } catch (CudaUnavailableException e) {
                unavailable = e.getMessage();
            }
        }
        assumeTrue(cuda != null, () -> "no GPU: " + unavailable);
        return cuda;
    }

    static float[] random(SplittableRandom rnd, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        return a;
    }

    /** Rounds to bfloat16 (nearest even) in place, so references see exactly what the GPU sees. */
    static float[] roundTo(ElementType t, float[] a) {
        if (t == ElementType.BF16) for (int i = 0; i < a.length; i++) a[i] = bf16ToFloat(floatToBf16(a[i]));
        return a;
    }

    static short floatToBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        u += 0x7fff + ((u >>> 16) & 1);
        return (short) (u >>> 16);
    }

    static float bf16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    static DeviceBuffer upload(ElementType t, float[] a) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate((long) a.length * t.bytes());
            for (int i = 0; i < a.length; i++) {
                if (t == ElementType.F32) host.setAtIndex(ValueLayout.JAVA_FLOAT, i, a[i]);
                else host.setAtIndex(ValueLayout.JAVA_SHORT, i, floatToBf16(a[i]));
            }
            return cuda.upload(host);
        }
    }

    static DeviceBuffer uploadInts(int[] a) {
        try (Arena arena = Arena.ofConfined()) {
            return cuda.upload(arena.allocateFrom(ValueLayout.JAVA_INT, a));
        }
    }

    /** A buffer of n elements filled with NaN, so an element the kernel forgets to write fails the check. */
    static DeviceBuffer poisoned(ElementType t, long n) {
        DeviceBuffer b = cuda.allocate(n * t.bytes());
        cuda.driver().fillBytes(b.address(), (byte) 0xff, b.bytes(), cuda.stream());
        return b;
    }

    static float[] download(ElementType t, DeviceBuffer b, int n) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate((long) n * t.bytes());
            cuda.download(b, host);
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = t == ElementType.F32 ? host.getAtIndex(ValueLayout.JAVA_FLOAT, i) : bf16ToFloat(host.getAtIndex(ValueLayout.JAVA_SHORT, i));
            }
            return a;
        }
    }

    /** ‖out − ref‖ / ‖ref‖; NaN or infinity anywhere in out gives infinity. */
    static double relativeError(float[] out, double[] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            if (!Float.isFinite(out[i])) return Double.POSITIVE_INFINITY;
            num += (out[i] - ref[i]) * (out[i] - ref[i]);
            den += ref[i] * ref[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }

    static void assertClose(String what, float[] out, double[] ref, double tolerance) {
        double err = relativeError(out, ref);
        assertTrue(err <= tolerance, () -> what + ": relative error " + err + " > " + tolerance);
    }

    static void assertClose(String what, float[] out, float[] ref, double tolerance) {
        double[] wide = new double[ref.length];
        for (int i = 0; i < ref.length; i++) wide[i] = ref[i];
        assertClose(what, out, wide, tolerance);
    }

    /** Random values that bf16 holds exactly, so every backend starts from the same inputs. */
    static float[] bf16Random(SplittableRandom rnd, int n) {
        return roundTo(ElementType.BF16, random(rnd, n, 1.5));
    }

    /** values in a new buffer of {@code backend}: kept activations (bf16 where the backend keeps them so) or float. */
    static Buffer put(Backend backend, float[] values, boolean activation) {
        Buffer b = activation ? backend.allocateActivations(values.length) : backend.allocate(DType.F32, values.length);
        backend.copyFromHost(MemorySegment.ofArray(values), b);
        return b;
    }

    static float[] get(Backend backend, Buffer b) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(b.length() * Float.BYTES, 8);
            backend.copyToHost(b, host);
            return host.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    /** RMSNorm in double: {out, dx0 + dx} for rows of x scaled by w, with the output gradient dy. */
    static double[][] rmsnormReference(float[] x, float[] w, float[] dy, float[] dx0, int rows, int dim, float eps) {
        double[] out = new double[rows * dim], dx = new double[rows * dim];
        for (int r = 0; r < rows; r++) {
            double ss = 0, dot = 0;
            for (int i = 0; i < dim; i++) {
                ss += (double) x[r * dim + i] * x[r * dim + i];
                dot += (double) w[i] * dy[r * dim + i] * x[r * dim + i];
            }
            double rs = 1 / Math.sqrt(ss / dim + eps);
            for (int i = 0; i < dim; i++) {
                out[r * dim + i] = w[i] * x[r * dim + i] * rs;
                dx[r * dim + i] = dx0[r * dim + i] + rs * w[i] * dy[r * dim + i] - x[r * dim + i] * dot * rs * rs * rs / dim;
            }
        }
        return new double[][]{out, dx};
    }

    /** Tolerance by type: float arithmetic, or bf16 inputs and outputs. */
    static double tolerance(ElementType t) {
        return t == ElementType.F32 ? 1e-5 : 1e-2;
    }

    static void free(DeviceBuffer... buffers) {
        for (DeviceBuffer b : buffers) cuda.free(b);
    }
}
