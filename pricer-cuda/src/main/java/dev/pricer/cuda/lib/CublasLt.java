package dev.pricer.cuda.lib;

import dev.pricer.cuda.CudaException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static dev.pricer.cuda.lib.Driver.call;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The cuBLASLt calls for one matrix product {@code D = alpha·op(A)·op(B) + beta·C}: handle, operation and
 * layout descriptors, the heuristic that offers algorithms, and the product itself. cuBLASLt is
 * column-major; {@link dev.pricer.cuda.Gemm} maps the row-major products of the model onto it.
 */
public final class CublasLt {

    public static final int COMPUTE_32F = 68;
    public static final int R_32F = 0;
    public static final int R_16BF = 14;
    public static final int OP_N = 0;
    public static final int OP_T = 1;
    static final int DESC_TRANSA = 3;
    static final int DESC_TRANSB = 4;
    static final int DESC_SM_COUNT_TARGET = 15;
    static final int PREF_MAX_WORKSPACE_BYTES = 1;
    /** CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES; those of B, C and D follow it. */
    static final int PREF_MIN_ALIGNMENT_A_BYTES = 5;
    static final int LAYOUT_BATCH_COUNT = 5;
    static final int LAYOUT_STRIDED_BATCH_OFFSET = 6;
    /** sizeof(cublasLtMatmulHeuristicResult_t): a 64-byte algo, size_t workspace, status, waves, 4 reserved ints. */
    public static final long HEURISTIC_RESULT_BYTES = 96;
    static final long RESULT_WORKSPACE_OFFSET = 64;
    static final long RESULT_STATE_OFFSET = 72;
    static final long RESULT_WAVES_OFFSET = 76;

    private final MethodHandle create, getVersion, descCreate, descSetAttribute, layoutCreate, layoutSetAttribute, preferenceCreate,
            preferenceSetAttribute, algoGetHeuristic, matmul, getStatusName;

    private CublasLt(NativeLibrary lib) {
        create = lib.function("cublasLtCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        getVersion = lib.function("cublasLtGetVersion", FunctionDescriptor.of(JAVA_LONG));
        descCreate = lib.function("cublasLtMatmulDescCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        descSetAttribute = lib.function("cublasLtMatmulDescSetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        layoutCreate = lib.function("cublasLtMatrixLayoutCreate",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        layoutSetAttribute = lib.function("cublasLtMatrixLayoutSetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        preferenceCreate = lib.function("cublasLtMatmulPreferenceCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        preferenceSetAttribute = lib.function("cublasLtMatmulPreferenceSetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        algoGetHeuristic = lib.function("cublasLtMatmulAlgoGetHeuristic", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        matmul = lib.function("cublasLtMatmul", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS,
                JAVA_LONG, JAVA_LONG, ADDRESS));
        getStatusName = lib.function("cublasLtGetStatusName", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    public static CublasLt load(LibraryLocator locator) {
        return new CublasLt(NativeLibrary.load(locator, LibraryLocator.Library.CUBLASLT));
    }

    public long version() {
        return call2(() -> (long) getVersion.invokeExact());
    }

    public MemorySegment createHandle() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ADDRESS);
            check(call(() -> (int) create.invokeExact(v)), "cublasLtCreate");
            return v.get(ADDRESS, 0);
        }
    }

    /** An operation descriptor: fp32 scale, the given compute type and transposes. */
    public MemorySegment operation(int computeType, int transA, int transB) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ADDRESS);
            check(call(() -> (int) descCreate.invokeExact(v, computeType, R_32F)), "cublasLtMatmulDescCreate");
            MemorySegment desc = v.get(ADDRESS, 0);
            MemorySegment ta = arena.allocateFrom(JAVA_INT, transA), tb = arena.allocateFrom(JAVA_INT, transB);
            check(call(() -> (int) descSetAttribute.invokeExact(desc, DESC_TRANSA, ta, 4L)), "set TRANSA");
            check(call(() -> (int) descSetAttribute.invokeExact(desc, DESC_TRANSB, tb, 4L)), "set TRANSB");
            return desc;
        }
    }

    /**
     * Has cuBLASLt plan the operation's products for {@code multiprocessors} SMs instead of the whole GPU, leaving the
     * others to work on another stream at the same time.
     */
    public void targetMultiprocessors(MemorySegment op, int multiprocessors) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocateFrom(JAVA_INT, multiprocessors);
            check(call(() -> (int) descSetAttribute.invokeExact(op, DESC_SM_COUNT_TARGET, count, 4L)), "set SM_COUNT_TARGET " + multiprocessors);
        }
    }

    /** A column-major layout of {@code rows × cols} elements of {@code type} with leading dimension {@code ld}. */
    public MemorySegment layout(int type, long rows, long cols, long ld) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ADDRESS);
            check(call(() -> (int) layoutCreate.invokeExact(v, type, rows, cols, ld)),
                    "cublasLtMatrixLayoutCreate(" + rows + "x" + cols + ", ld " + ld + ")");
            return v.get(ADDRESS, 0);
        }
    }

    /** Makes {@code layout} a strided batch: {@code count} matrices, {@code stride} elements apart. */
    public void batch(MemorySegment layout, int count, long stride) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = arena.allocateFrom(JAVA_INT, count), st = arena.allocateFrom(JAVA_LONG, stride);
            check(call(() -> (int) layoutSetAttribute.invokeExact(layout, LAYOUT_BATCH_COUNT, c, 4L)), "set BATCH_COUNT " + count);
            check(call(() -> (int) layoutSetAttribute.invokeExact(layout, LAYOUT_STRIDED_BATCH_OFFSET, st, 8L)), "set STRIDED_BATCH_OFFSET " + stride);
        }
    }

    /**
     * Algorithms that fit {@code workspaceBytes} and need the matrices' addresses aligned to no more than
     * {@code alignmentBytes}; cuBLASLt otherwise assumes 256, which slices of a buffer need not be.
     */
    public MemorySegment preference(long workspaceBytes, int alignmentBytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ADDRESS);
            check(call(() -> (int) preferenceCreate.invokeExact(v)), "cublasLtMatmulPreferenceCreate");
            MemorySegment pref = v.get(ADDRESS, 0);
            MemorySegment ws = arena.allocateFrom(JAVA_LONG, workspaceBytes);
            check(call(() -> (int) preferenceSetAttribute.invokeExact(pref, PREF_MAX_WORKSPACE_BYTES, ws, 8L)),
                    "set MAX_WORKSPACE_BYTES");
            MemorySegment alignment = arena.allocateFrom(JAVA_INT, alignmentBytes);
            for (int matrix = 0; matrix < 4; matrix++) {
                int attribute = PREF_MIN_ALIGNMENT_A_BYTES + matrix;
                check(call(() -> (int) preferenceSetAttribute.invokeExact(pref, attribute, alignment, 4L)),
                        "set MIN_ALIGNMENT_" + "ABCD".charAt(matrix) + "_BYTES " + alignmentBytes);
            }
            return pref;
        }
    }

    /**
     * The heuristic's algorithms for the product, as many as {@code results} holds (HEURISTIC_RESULT_BYTES each) at
     * most, written into it in increasing order of estimated time; returns how many it wrote (at least one).
     */
    public int heuristic(MemorySegment handle, MemorySegment op, MemorySegment a, MemorySegment b,
                         MemorySegment c, MemorySegment preference, MemorySegment results, String what) {
        int requested = (int) (results.byteSize() / HEURISTIC_RESULT_BYTES);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment returned = arena.allocate(JAVA_INT);
            check(call(() -> (int) algoGetHeuristic.invokeExact(handle, op, a, b, c, c, preference, requested, results, returned)),
                    "cublasLtMatmulAlgoGetHeuristic(" + what + ")");
            int count = returned.get(JAVA_INT, 0);
            if (count == 0) throw new CudaException("cuBLASLt has no algorithm for " + what);
            return count;
        }
    }

    /** The i-th heuristic result, to pass to {@link #matmul} as its algorithm (the algorithm is the result's first field). */
    public static MemorySegment algorithm(MemorySegment results, int i) {
        return results.asSlice(i * HEURISTIC_RESULT_BYTES, HEURISTIC_RESULT_BYTES);
    }

    /** The workspace bytes the i-th heuristic result's algorithm needs. */
    public static long workspaceBytes(MemorySegment results, int i) {
        return results.get(JAVA_LONG, i * HEURISTIC_RESULT_BYTES + RESULT_WORKSPACE_OFFSET);
    }

    /** The i-th heuristic result's status: 0 where its other fields are valid. */
    public static int state(MemorySegment results, int i) {
        return results.get(JAVA_INT, i * HEURISTIC_RESULT_BYTES + RESULT_STATE_OFFSET);
    }

    /** How many waves of blocks over the GPU's multiprocessors the i-th heuristic result's algorithm runs. */
    public static float waves(MemorySegment results, int i) {
        return results.get(JAVA_FLOAT, i * HEURISTIC_RESULT_BYTES + RESULT_WAVES_OFFSET);
    }

    /** D = alpha·op(A)·op(B) + beta·C, D in C's layout; {@code d} may be {@code c} (in place). */
    public void matmul(MemorySegment handle, MemorySegment op, MemorySegment alpha, long a, MemorySegment aLayout,
                       long b, MemorySegment bLayout, MemorySegment beta, long c, long d, MemorySegment cLayout,
                       MemorySegment algo, long workspace, long workspaceBytes, MemorySegment stream, String what) {
        check(tryMatmul(handle, op, alpha, a, aLayout, b, bLayout, beta, c, d, cLayout, algo, workspace, workspaceBytes, stream),
                "cublasLtMatmul(" + what + ")");
    }

    /** {@link #matmul} returning cuBLASLt's status instead of throwing: for trying algorithms that may not apply. */
    public int tryMatmul(MemorySegment handle, MemorySegment op, MemorySegment alpha, long a, MemorySegment aLayout,
                         long b, MemorySegment bLayout, MemorySegment beta, long c, long d, MemorySegment cLayout,
                         MemorySegment algo, long workspace, long workspaceBytes, MemorySegment stream) {
        return call(() -> (int) matmul.invokeExact(handle, op, alpha, a, aLayout, b, bLayout, beta, c, cLayout, d, cLayout,
                algo, workspace, workspaceBytes, stream));
    }

    private void check(int status, String what) {
        if (status != 0) throw new CudaException(what + " failed: " + statusName(status) + " (" + status + ")");
    }

    public String statusName(int status) {
        try {
            MemorySegment text = (MemorySegment) getStatusName.invokeExact(status);
            return text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @FunctionalInterface
    private interface LongCall {
        long invoke() throws Throwable;
    }

    private static long call2(LongCall c) {
        try {
            return c.invoke();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
