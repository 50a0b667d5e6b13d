package dev.pricer.cuda;

import dev.pricer.cuda.lib.CublasLt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Row-major matrix products through cuBLASLt with float accumulation:
 * {@code C[m×n] = alpha·op(A)·op(B) + beta·C}, where op(A) is m×k and op(B) is k×n. A and B share a type
 * (bf16 or f32); C may be either. {@code beta = 1} is the epilogue that saves a pass: residual additions,
 * LoRA's low-rank update on top of the base product, and gradient accumulation all land in the product.
 * A row-major product is the column-major product of the transposes, so the operands swap on the way in.
 * Descriptors and the heuristic's choice of algorithm are kept per shape.
 */
public final class Gemm {

    private static final long WORKSPACE_BYTES = 32L << 20;

    private record Shape(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldc, ElementType ab, ElementType c,
                         int batch, long strideA, long strideB, long strideC) {
    }

    private record Plan(MemorySegment operation, MemorySegment aLayout, MemorySegment bLayout, MemorySegment cLayout,
                        MemorySegment algo) {
    }

    private final Cuda cuda;
    private final CublasLt lt;
    private final MemorySegment handle;
    private final MemorySegment preference;
    private final Map<Shape, Plan> plans = new ConcurrentHashMap<>();
    private DeviceBuffer workspace;

    Gemm(Cuda cuda, CublasLt lt) {
        this.cuda = cuda;
        this.lt = lt;
        this.handle = lt.createHandle();
        this.preference = lt.preference(WORKSPACE_BYTES);
    }

    public long libraryVersion() {
        return lt.version();
    }

    public void matmul(boolean transA, boolean transB, int m, int n, int k, float alpha,
                       DeviceBuffer a, int lda, DeviceBuffer b, int ldb, ElementType abType,
                       float beta, DeviceBuffer c, int ldc, ElementType cType) {
        run(new Shape(transA, transB, m, n, k, lda, ldb, ldc, abType, cType, 1, 0, 0, 0),
                alpha, a, b, beta, c);
    }

    /**
     * {@code batch} independent products of one shape, the i-th reading A, B and C {@code i·stride} elements past
     * the start of each (a strided batch): attention's per-head products.
     */
    public void batched(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                        DeviceBuffer a, int lda, long strideA, DeviceBuffer b, int ldb, long strideB, ElementType abType,
                        float beta, DeviceBuffer c, int ldc, long strideC, ElementType cType) {
        run(new Shape(transA, transB, m, n, k, lda, ldb, ldc, abType, cType, batch, strideA, strideB, strideC),
                alpha, a, b, beta, c);
    }

    private void run(Shape shape, float alpha, DeviceBuffer a, DeviceBuffer b, float beta, DeviceBuffer c) {
        boolean transA = shape.transA(), transB = shape.transB();
        int m = shape.m(), n = shape.n(), k = shape.k();
        checkExtent("A", a, transA ? k : m, transA ? m : k, shape.lda(), shape.ab(), shape.batch(), shape.strideA());
        checkExtent("B", b, transB ? n : k, transB ? k : n, shape.ldb(), shape.ab(), shape.batch(), shape.strideB());
        checkExtent("C", c, m, n, shape.ldc(), shape.c(), shape.batch(), shape.strideC());
        Plan plan = plans.computeIfAbsent(shape, this::plan);
        if (workspace == null) workspace = cuda.allocate(WORKSPACE_BYTES);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment al = arena.allocateFrom(ValueLayout.JAVA_FLOAT, alpha);
            MemorySegment be = arena.allocateFrom(ValueLayout.JAVA_FLOAT, beta);
            lt.matmul(handle, plan.operation(), al, b.address(), plan.aLayout(), a.address(), plan.bLayout(), be,
                    c.address(), plan.cLayout(), plan.algo(), workspace.address(), WORKSPACE_BYTES, cuda.stream(),
                    shape.toString());
        }
    }

    /** y[m×n] = x[m×k]·w[n×k]ᵀ + beta·y: a linear layer's forward pass. */
    public void linear(DeviceBuffer x, DeviceBuffer w, DeviceBuffer y, int m, int n, int k, ElementType abType, ElementType yType, float alpha, float beta) {
        matmul(false, true, m, n, k, alpha, x, k, w, k, abType, beta, y, n, yType);
    }

    private static void checkExtent(String which, DeviceBuffer buffer, long rows, long cols, long ld, ElementType type, int batch, long stride) {
        if (ld < cols) throw new IllegalArgumentException("matrix " + which + ": row stride " + ld + " < " + cols + " columns");
        if (batch > 1 && stride < rows * ld) throw new IllegalArgumentException("matrix " + which + ": batch stride " + stride + " < " + rows + " rows of " + ld);
        long needed = ((batch - 1) * stride + (rows - 1) * ld + cols) * type.bytes();
        if (buffer.bytes() < needed) {
            throw new IllegalArgumentException("matrix " + which + " needs " + needed + " bytes (" + batch + " × " + rows + " rows of "
                    + ld + " " + type + ") but its buffer has " + buffer.bytes());
        }
    }

    private Plan plan(Shape s) {
        MemorySegment op = lt.operation(CublasLt.COMPUTE_32F, s.transB() ? CublasLt.OP_T : CublasLt.OP_N, s.transA() ? CublasLt.OP_T : CublasLt.OP_N);
        MemorySegment aLayout = lt.layout(s.ab().cudaType(), s.transB() ? s.k() : s.n(), s.transB() ? s.n() : s.k(), s.ldb());
        MemorySegment bLayout = lt.layout(s.ab().cudaType(), s.transA() ? s.m() : s.k(), s.transA() ? s.k() : s.m(), s.lda());
        MemorySegment cLayout = lt.layout(s.c().cudaType(), s.n(), s.m(), s.ldc());
        if (s.batch() > 1) {
            lt.batch(aLayout, s.batch(), s.strideB());
            lt.batch(bLayout, s.batch(), s.strideA());
            lt.batch(cLayout, s.batch(), s.strideC());
        }
        MemorySegment result = Arena.global().allocate(CublasLt.HEURISTIC_RESULT_BYTES, 16);
        lt.heuristic(handle, op, aLayout, bLayout, cLayout, preference, result, s.toString());
        return new Plan(op, aLayout, bLayout, cLayout, result);
    }
}
