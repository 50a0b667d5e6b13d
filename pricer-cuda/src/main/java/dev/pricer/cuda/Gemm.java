package dev.pricer.cuda;

import dev.pricer.cuda.lib.CublasLt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Row-major matrix products through cuBLASLt with float accumulation:
 * {@code C[m×n] = alpha·op(A)·op(B) + beta·C}, where op(A) is m×k and op(B) is k×n, or with D separate from C,
 * {@code D = alpha·op(A)·op(B) + beta·C} (D of C's layout). A and B share a type (bf16 or f32); C may be either.
 * {@code beta = 1} is the epilogue that saves a pass: residual additions (into a separate D: the residual stream
 * is read in the product, not first copied), LoRA's low-rank update on top of the base product, and gradient
 * accumulation all land in the product.
 * A row-major product is the column-major product of the transposes, so the operands swap on the way in.
 * Descriptors and the choice of algorithm are kept per shape: cuBLASLt's heuristic's first choice, or with
 * tuning on ({@link GemmTuner}) the fastest of its candidates as timed on the first product of the shape. The
 * shape includes how the operands' addresses are aligned (up to cuBLASLt's assumed 256 bytes): a slice of a
 * buffer (one projection's rows of LoRA's stacked intermediate) may start anywhere.
 */
public final class Gemm {

    private static final long WORKSPACE_BYTES = 32L << 20;

    private record Shape(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldc, ElementType ab, ElementType c,
                         int batch, long strideA, long strideB, long strideC, int alignment, int multiprocessors) {
    }

    private record Plan(MemorySegment operation, MemorySegment aLayout, MemorySegment bLayout, MemorySegment cLayout,
                        MemorySegment algo) {
    }

    /** What a product reads and writes, for timing algorithms on it; {@code cBytes}: the extent of C (and of D). */
    private record Operands(MemorySegment alpha, DeviceBuffer a, DeviceBuffer b, MemorySegment beta, boolean accumulates,
                            DeviceBuffer c, DeviceBuffer d, long cBytes) {

        /** Whether the product adds into its own output, which timing runs must then leave alone. */
        boolean accumulatesInPlace() {
            return accumulates && c.address() == d.address();
        }
    }

    private final Cuda cuda;
    private final CublasLt lt;
    private final MemorySegment handle;
    /** By the alignment their algorithms may assume. */
    private final Map<Integer, MemorySegment> preferences = new ConcurrentHashMap<>();
    private final Map<Shape, Plan> plans = new ConcurrentHashMap<>();
    /** null with tuning off. */
    private final GemmTuner tuner;
    private DeviceBuffer workspace;

    Gemm(Cuda cuda, CublasLt lt, boolean tune, boolean logTuning) {
        this.cuda = cuda;
        this.lt = lt;
        this.handle = lt.createHandle();
        this.tuner = tune ? new GemmTuner(cuda, lt, logTuning) : null;
    }

    /** Tuning as the environment says ({@link GemmTuner#VARIABLE}, {@link GemmTuner#LOG_VARIABLE}). */
    static Gemm fromEnvironment(Cuda cuda, CublasLt lt, Map<String, String> env) {
        return new Gemm(cuda, lt, Environment.switchedOn(env, GemmTuner.VARIABLE), Environment.switchedOn(env, GemmTuner.LOG_VARIABLE));
    }

    /** How many shapes this object has tuned (0 with tuning off). */
    int tunedShapes() {
        return tuner == null ? 0 : tuner.tunedShapes();
    }

    public long libraryVersion() {
        return lt.version();
    }

    public void matmul(boolean transA, boolean transB, int m, int n, int k, float alpha,
                       DeviceBuffer a, int lda, DeviceBuffer b, int ldb, ElementType abType,
                       float beta, DeviceBuffer c, int ldc, ElementType cType) {
        matmul(transA, transB, m, n, k, alpha, a, lda, b, ldb, abType, beta, c, c, ldc, cType);
    }

    /** D = alpha·op(A)·op(B) + beta·C with D a matrix of C's layout (row stride {@code ldc}, {@code cType}) elsewhere. */
    public void matmul(boolean transA, boolean transB, int m, int n, int k, float alpha,
                       DeviceBuffer a, int lda, DeviceBuffer b, int ldb, ElementType abType,
                       float beta, DeviceBuffer c, DeviceBuffer d, int ldc, ElementType cType) {
        matmul(transA, transB, m, n, k, alpha, a, lda, b, ldb, abType, beta, c, d, ldc, cType, 0);
    }

    /**
     * The same, planned for {@code multiprocessors} SMs (0: the whole GPU), the others left to work on another stream
     * at the same time.
     */
    public void matmul(boolean transA, boolean transB, int m, int n, int k, float alpha,
                       DeviceBuffer a, int lda, DeviceBuffer b, int ldb, ElementType abType,
                       float beta, DeviceBuffer c, DeviceBuffer d, int ldc, ElementType cType, int multiprocessors) {
        run(new Shape(transA, transB, m, n, k, lda, ldb, ldc, abType, cType, 1, 0, 0, 0, alignment(a, b, c, d), multiprocessors),
                alpha, a, b, beta, c, d);
    }

    /**
     * {@code batch} independent products of one shape, the i-th reading A, B and C {@code i·stride} elements past
     * the start of each (a strided batch): attention's per-head products.
     */
    public void batched(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                        DeviceBuffer a, int lda, long strideA, DeviceBuffer b, int ldb, long strideB, ElementType abType,
                        float beta, DeviceBuffer c, int ldc, long strideC, ElementType cType) {
        run(new Shape(transA, transB, m, n, k, lda, ldb, ldc, abType, cType, batch, strideA, strideB, strideC, alignment(a, b, c, c), 0),
                alpha, a, b, beta, c, c);
    }

    /** The largest power of two up to 256 that divides every address. */
    private static int alignment(DeviceBuffer... matrices) {
        long bits = 256;
        for (DeviceBuffer m : matrices) bits |= m.address();
        return (int) Long.lowestOneBit(bits);
    }

    private void run(Shape shape, float alpha, DeviceBuffer a, DeviceBuffer b, float beta, DeviceBuffer c, DeviceBuffer d) {
        boolean transA = shape.transA(), transB = shape.transB();
        int m = shape.m(), n = shape.n(), k = shape.k();
        checkExtent("A", a, transA ? k : m, transA ? m : k, shape.lda(), shape.ab(), shape.batch(), shape.strideA());
        checkExtent("B", b, transB ? n : k, transB ? k : n, shape.ldb(), shape.ab(), shape.batch(), shape.strideB());
        long cBytes = checkExtent("C", c, m, n, shape.ldc(), shape.c(), shape.batch(), shape.strideC());
        checkExtent("D", d, m, n, shape.ldc(), shape.c(), shape.batch(), shape.strideC());
        if (workspace == null) workspace = cuda.allocate(WORKSPACE_BYTES);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment al = arena.allocateFrom(ValueLayout.JAVA_FLOAT, alpha);
            MemorySegment be = arena.allocateFrom(ValueLayout.JAVA_FLOAT, beta);
            Plan plan = plans.computeIfAbsent(shape, s -> plan(s, new Operands(al, a, b, be, beta != 0, c, d, cBytes)));
            lt.matmul(handle, plan.operation(), al, b.address(), plan.aLayout(), a.address(), plan.bLayout(), be,
                    c.address(), d.address(), plan.cLayout(), plan.algo(), workspace.address(), WORKSPACE_BYTES, cuda.stream(),
                    shape.toString());
        }
    }

    /** y[m×n] = x[m×k]·w[n×k]ᵀ + beta·y: a linear layer's forward pass. */
    public void linear(DeviceBuffer x, DeviceBuffer w, DeviceBuffer y, int m, int n, int k, ElementType abType, ElementType yType, float alpha, float beta) {
        matmul(false, true, m, n, k, alpha, x, k, w, k, abType, beta, y, n, yType);
    }

    /** Checks that the buffer holds the matrix (or strided batch of them); returns the bytes it spans. */
    private static long checkExtent(String which, DeviceBuffer buffer, long rows, long cols, long ld, ElementType type, int batch, long stride) {
        if (ld < cols) throw new IllegalArgumentException("matrix " + which + ": row stride " + ld + " < " + cols + " columns");
        if (batch > 1 && stride < rows * ld) throw new IllegalArgumentException("matrix " + which + ": batch stride " + stride + " < " + rows + " rows of " + ld);
        long needed = ((batch - 1) * stride + (rows - 1) * ld + cols) * type.bytes();
        if (buffer.bytes() < needed) {
            throw new IllegalArgumentException("matrix " + which + " needs " + needed + " bytes (" + batch + " × " + rows + " rows of "
                    + ld + " " + type + ") but its buffer has " + buffer.bytes());
        }
        return needed;
    }

    private Plan plan(Shape s, Operands operands) {
        MemorySegment op = lt.operation(CublasLt.COMPUTE_32F, s.transB() ? CublasLt.OP_T : CublasLt.OP_N, s.transA() ? CublasLt.OP_T : CublasLt.OP_N);
        if (s.multiprocessors() > 0) lt.targetMultiprocessors(op, s.multiprocessors());
        MemorySegment aLayout = lt.layout(s.ab().cudaType(), s.transB() ? s.k() : s.n(), s.transB() ? s.n() : s.k(), s.ldb());
        MemorySegment bLayout = lt.layout(s.ab().cudaType(), s.transA() ? s.m() : s.k(), s.transA() ? s.k() : s.m(), s.lda());
        MemorySegment cLayout = lt.layout(s.c().cudaType(), s.n(), s.m(), s.ldc());
        if (s.batch() > 1) {
            lt.batch(aLayout, s.batch(), s.strideB());
            lt.batch(bLayout, s.batch(), s.strideA());
            lt.batch(cLayout, s.batch(), s.strideC());
        }
        int requested = tuner == null ? 1 : GemmTuner.CANDIDATES;
        MemorySegment results = Arena.global().allocate(requested * CublasLt.HEURISTIC_RESULT_BYTES, 16);
        MemorySegment preference = preferences.computeIfAbsent(s.alignment(), alignment -> lt.preference(WORKSPACE_BYTES, alignment));
        int count = lt.heuristic(handle, op, aLayout, bLayout, cLayout, preference, results, s.toString());
        Plan first = new Plan(op, aLayout, bLayout, cLayout, CublasLt.algorithm(results, 0));
        return tuner == null ? first : tuned(first, results, count, operands, s);
    }

    /**
     * The plan with the fastest of the heuristic's {@code count} results. A product that accumulates in place times
     * its runs on a scratch copy of C, so that C itself gets the one accumulation of the real product; one into a
     * separate D only reads C, and the real product overwrites D after.
     */
    private Plan tuned(Plan plan, MemorySegment results, int count, Operands o, Shape s) {
        boolean scratch = o.accumulatesInPlace();
        DeviceBuffer c = scratch ? cuda.allocate(o.cBytes()) : o.c(), d = scratch ? c : o.d();
        try {
            if (scratch) cuda.copy(o.c(), c, o.cBytes());
            int best = tuner.fastest(results, count, WORKSPACE_BYTES, algo -> lt.tryMatmul(handle, plan.operation(), o.alpha(),
                    o.b().address(), plan.aLayout(), o.a().address(), plan.bLayout(), o.beta(), c.address(), d.address(), plan.cLayout(),
                    algo, workspace.address(), WORKSPACE_BYTES, cuda.stream()), s.toString());
            return new Plan(plan.operation(), plan.aLayout(), plan.bLayout(), plan.cLayout(), CublasLt.algorithm(results, best));
        } finally {
            if (scratch) cuda.free(c);
        }
    }
}
