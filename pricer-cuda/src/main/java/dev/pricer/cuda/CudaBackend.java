package dev.pricer.cuda;

import dev.pricer.core.backend.AdamW;
import dev.pricer.core.backend.AttentionShape;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.Nf4Buffer;
import dev.pricer.core.quant.BlockScales;
import dev.pricer.core.quant.Nf4;
import dev.pricer.core.quant.Nf4Weight;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.IntStream;

/**
 * The engine's {@link Backend} on one NVIDIA GPU: cuBLASLt products and the project's NVRTC-compiled kernels,
 * all ordered on one stream. Methods that return a Java number wait for the GPU; the others only enqueue.
 *
 * <p>{@link Precision#FLOAT32} computes everything in float32 (no TF32), for checking against the CPU backend
 * and the golden fixtures. {@link Precision#BF16} keeps frozen weight matrices (those uploaded read-only) and the
 * activations a training pass keeps for backward ({@link #allocateActivations}) in bfloat16, and runs every
 * product on the tensor cores in bf16 with float32 accumulation, as PyTorch's bf16 autocast does: a float
 * operand is rounded to bf16 on the way in, and that copy is kept until the buffer is next written
 * ({@link Bf16Copies}), so LoRA matrices are rounded once per optimizer step and a gradient once for all the
 * products that read it. LoRA parameters, optimizer state, gradients, the residual stream, norms and softmax
 * statistics stay float32. In bf16 precision, attention over whole sequences runs on the tensor cores
 * ({@code attention_mma.cu}, fused flash-style, for head dims 64 and 128; {@link GemmAttention}'s batched products
 * for other head dims); generation's steps over a KV cache, and float32 precision, use the flash kernels on the
 * CUDA cores. {@link #attentionPath} chooses; {@code PRICER_CUDA_ATTENTION=products} or {@code =flash} forces the
 * batched products or the CUDA-core kernels wherever they apply, to compare.
 */
public final class CudaBackend implements Backend {

    public enum Precision { FLOAT32, BF16 }

    /** Which kernels run an attention call: fused on the tensor cores, batched products, or the CUDA-core flash kernels. */
    enum AttentionPath { TENSOR_CORES, PRODUCTS, CUDA_CORES }

    /**
     * Turns on the NF4 product that decodes inside the GEMM. Off by default: it keeps no dequantized copy of a weight,
     * but measures slower than dequantizing into scratch and running cuBLASLt (BENCHMARKS.md, QLoRA on the GPU).
     */
    static final String FUSED_NF4_VARIABLE = "PRICER_NF4_FUSED";
    /**
     * How many NF4 weights are dequantized ahead, beside the work between products ({@link Nf4Scratch}): 0 turns it
     * off; unset, {@value #NF4_AHEAD_DEFAULT}. Each costs a scratch slot of the largest weight's size.
     */
    static final String NF4_AHEAD_VARIABLE = "PRICER_NF4_AHEAD";
    static final int NF4_AHEAD_DEFAULT = 1;
    static final int NF4_AHEAD_MOST = 4;
    /**
     * How many SMs a GEMM leaves to a weight's dequantization started beside it ({@link Nf4Scratch}): 0 starts none
     * beside a GEMM; unset, an eighth of the GPU's SMs (16 on an H100 or H200).
     */
    static final String NF4_BESIDE_VARIABLE = "PRICER_NF4_BESIDE";
    static final int NF4_BESIDE_MOST = 64;
    private static final Cleaner CLEANER = Cleaner.create();
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Cuda cuda;
    private final Kernels kernels;
    private final Precision precision;
    private final Bf16Copies copies;
    private final BufferTable squaresTable;
    private final BufferTable updateTable;
    private DeviceBuffer statistics;
    private int statisticsRows;
    private DeviceBuffer attentionScratch;
    private final DeviceBuffer sumOfSquares;
    private final DeviceBuffer gradScale;
    private final GemmAttention products;
    private final boolean fusedAttention;
    /** NF4 products decode inside the GEMM (nf4_gemm.cu) where they fit, instead of dequantizing into scratch first. */
    private final boolean fusedNf4;
    private final int nf4Ahead, nf4Beside;
    private DeviceBuffer nf4Codebook;
    private Nf4Scratch nf4Scratch;
    private boolean closed;

    public CudaBackend(Precision precision) {
        this(Cuda.shared(), precision);
    }

    public CudaBackend(Cuda cuda, Precision precision) {
        this(cuda, precision, System.getenv("PRICER_CUDA_ATTENTION"));
    }

    CudaBackend(Cuda cuda, Precision precision, String forcedAttention) {
        this(cuda, precision, forcedAttention, Environment.switchedOn(System.getenv(), FUSED_NF4_VARIABLE),
                Environment.count(System.getenv(), NF4_AHEAD_VARIABLE, NF4_AHEAD_DEFAULT, NF4_AHEAD_MOST),
                nf4Beside(System.getenv(), cuda.multiprocessors()));
    }

    CudaBackend(Cuda cuda, Precision precision, String forcedAttention, boolean fusedNf4) {
        this(cuda, precision, forcedAttention, fusedNf4, NF4_AHEAD_DEFAULT, nf4Beside(Map.of(), cuda.multiprocessors()));
    }

    /**
     * The SMs a GEMM leaves to a dequantization beside it, as {@value #NF4_BESIDE_VARIABLE} in env says: unset, an
     * eighth of the GPU's; at most {@value #NF4_BESIDE_MOST}, and fewer than the GPU has.
     */
    static int nf4Beside(Map<String, String> env, int multiprocessors) {
        return Environment.count(env, NF4_BESIDE_VARIABLE, multiprocessors / 8, Math.min(NF4_BESIDE_MOST, multiprocessors - 1));
    }

    /**
     * {@code forcedAttention}: "flash" or "products" to force those kernels where they apply, as the variable does; null
     * for the default. {@code fusedNf4}: NF4 products in BF16 precision decode inside the GEMM on GPUs that run it
     * ({@link Kernels#nf4GemmAvailable}), as {@value #FUSED_NF4_VARIABLE}=1 asks. {@code nf4Ahead}: how many NF4
     * weights are dequantized ahead ({@link Nf4Scratch}), 0 for none; {@code nf4Beside}: how many SMs a GEMM leaves to
     * a dequantization ahead started beside it, 0 to start none beside a GEMM.
     */
    CudaBackend(Cuda cuda, Precision precision, String forcedAttention, boolean fusedNf4, int nf4Ahead, int nf4Beside) {
        this.cuda = cuda;
        this.kernels = new Kernels(cuda);
        this.precision = precision;
        this.copies = new Bf16Copies(cuda, kernels);
        this.squaresTable = new BufferTable(cuda);
        this.updateTable = new BufferTable(cuda);
        this.sumOfSquares = cuda.allocate(Double.BYTES);
        this.gradScale = cuda.allocate(Float.BYTES);
        boolean flashOnly = "flash".equalsIgnoreCase(forcedAttention);
        this.products = precision == Precision.BF16 && !flashOnly ? new GemmAttention(cuda, kernels) : null;
        this.fusedAttention = products != null && !"products".equalsIgnoreCase(forcedAttention);
        this.fusedNf4 = fusedNf4 && precision == Precision.BF16 && kernels.nf4GemmAvailable();
        this.nf4Ahead = nf4Ahead;
        this.nf4Beside = nf4Beside;
    }

    @Override
    public String name() {
        return "cuda (" + cuda.deviceName() + ", " + precision.name().toLowerCase() + ")";
    }

    public Precision precision() {
        return precision;
    }

    public Cuda cuda() {
        return cuda;
    }

    /** The most device memory this process held through the backend since the last reset, in bytes. */
    public long peakMemoryBytes() {
        return cuda.peakBytes();
    }

    public void resetPeakMemory() {
        cuda.resetPeak();
    }

    /** Everything allocated through {@link Cuda} (all its backends), at its most since the last reset. */
    @Override
    public OptionalLong peakDeviceMemoryBytes() {
        return OptionalLong.of(cuda.peakBytes());
    }

    /** Waits for all work enqueued so far. */
    public void synchronize() {
        cuda.synchronize();
    }

    // ---- memory ----

    private CudaBuffer allocate(DType dtype, DType storage, boolean frozen, long length) {
        requireOpen();
        DeviceBuffer memory = cuda.allocate(length * storage.byteSize());
        CudaBuffer.Allocation allocation = new CudaBuffer.Allocation();
        CLEANER.register(allocation, () -> cuda.free(memory));
        return new CudaBuffer(dtype, storage, memory, frozen, allocation);
    }

    @Override
    public Buffer allocate(DType dtype, long length) {
        if (dtype != DType.F32 && dtype != DType.I32) throw new IllegalArgumentException("CUDA buffers hold F32 or I32, not " + dtype);
        CudaBuffer b = allocate(dtype, dtype, false, length);
        cuda.zero(b.memory());
        return b;
    }

    /** In bf16 precision, bf16 memory: half the bytes of the activations a training pass keeps for backward. */
    @Override
    public Buffer allocateActivations(long length) {
        if (precision == Precision.FLOAT32) return allocate(DType.F32, length);
        CudaBuffer b = allocate(DType.F32, DType.BF16, false, length);
        cuda.zero(b.memory());
        return b;
    }

    @Override
    public Buffer upload(HostTensor tensor, boolean writable) {
        long n = tensor.elementCount();
        if (!tensor.dtype().isFloatingPoint()) {
            CudaBuffer out = allocate(DType.I32, DType.I32, false, n);
            try (Arena arena = Arena.ofConfined()) {
                cuda.upload(arena.allocateFrom(ValueLayout.JAVA_INT, tensor.toIntArray()), out.memory());
            }
            return out;
        }
        boolean bf16 = precision == Precision.BF16 && !writable && tensor.shape().length >= 2;
        CudaBuffer out = allocate(DType.F32, bf16 ? DType.BF16 : DType.F32, bf16, n);
        if (tensor.dtype() == out.storage()) {
            copyIn(tensor.data(), out.memory());
            return out;
        }
        try (Arena arena = Arena.ofShared()) {
            MemorySegment host = arena.allocate(n * out.storage().byteSize(), 8);
            float[] values = tensor.toFloatArray();
            if (bf16) {
                IntStream.range(0, values.length).parallel().forEach(i -> host.setAtIndex(HALF, i, toBf16(values[i])));
            } else {
                MemorySegment.copy(values, 0, host, ValueLayout.JAVA_FLOAT, 0, values.length);
            }
            cuda.upload(host, out.memory());
            cuda.synchronize();
        }
        return out;
    }

    /** The weight's packed codes and block scales copied to the device as they are; never dequantized as a whole. */
    @Override
    public Nf4Buffer uploadNf4(Nf4Weight weight) {
        long[] shape = weight.shape();
        if (shape.length != 2 || shape[0] > Integer.MAX_VALUE || shape[1] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("an NF4 matrix must be 2-D with int-sized dimensions, got shape " + java.util.Arrays.toString(shape));
        }
        Kernels.checkNf4BlockSizes(weight.blockSize(), weight.scales() instanceof BlockScales.DoubleQuantized,
                weight.scales() instanceof BlockScales.DoubleQuantized d ? d.nestedBlockSize() : 0);
        DeviceBuffer packed = uploadBytes(weight.packed());
        CudaNf4Buffer out = switch (weight.scales()) {
            case BlockScales.Plain p -> new CudaNf4Buffer(shape[0], shape[1], weight.blockSize(), packed,
                    uploadBytes(MemorySegment.ofArray(p.absmax())), null, null, null, 0, 0f);
            case BlockScales.DoubleQuantized d -> new CudaNf4Buffer(shape[0], shape[1], weight.blockSize(), packed, null,
                    uploadBytes(MemorySegment.ofArray(d.codes())), uploadBytes(MemorySegment.ofArray(d.nestedAbsmax())),
                    uploadBytes(MemorySegment.ofArray(d.nestedMap())), d.nestedBlockSize(), d.offset());
        };
        DeviceBuffer[] owned = out.memory();
        CLEANER.register(out, () -> {
            for (DeviceBuffer b : owned) cuda.free(b);
        });
        return out;
    }

    private DeviceBuffer uploadBytes(MemorySegment host) {
        requireOpen();
        DeviceBuffer d = cuda.allocate(host.byteSize());
        copyIn(host, d);
        return d;
    }

    /** The weight dequantized into this backend's NF4 scratch, valid until the next call ({@link Nf4Scratch#take}). */
    DeviceBuffer dequantize(CudaNf4Buffer w, ElementType t, boolean transposed) {
        return nf4Scratch().take(w, t, transposed);
    }

    private Nf4Scratch nf4Scratch() {
        if (nf4Scratch == null) nf4Scratch = new Nf4Scratch(cuda, kernels, nf4Codebook(), nf4Ahead, nf4Beside);
        return nf4Scratch;
    }

    private DeviceBuffer nf4Codebook() {
        if (nf4Codebook == null) nf4Codebook = uploadBytes(MemorySegment.ofArray(Nf4.codebook()));
        return nf4Codebook;
    }

    /** bfloat16 by round-to-nearest-even, as PyTorch's {@code .to(torch.bfloat16)}; NaN stays NaN. */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    /** Host to device; heap segments (e.g. over an int[]) are staged through native memory first. */
    private void copyIn(MemorySegment src, DeviceBuffer dst) {
        if (src.isNative()) {
            cuda.upload(src, dst);
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staged = arena.allocate(src.byteSize(), 8);
            staged.copyFrom(src);
            cuda.upload(staged, dst);
            cuda.synchronize();
        }
    }

    /** Into bf16 activations the floats are rounded on the host first. */
    @Override
    public void copyFromHost(MemorySegment src, Buffer dst) {
        CudaBuffer d = writable(dst);
        if (d.storage() != DType.BF16) {
            copyIn(src.asSlice(0, d.memory().bytes()), d.memory());
            return;
        }
        long n = d.length();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment half = arena.allocate(n * 2, 8);
            for (long i = 0; i < n; i++) half.setAtIndex(HALF, i, toBf16(src.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i)));
            cuda.upload(half, d.memory());
            cuda.synchronize();
        }
    }

    @Override
    public void copyToHost(Buffer src, MemorySegment dst) {
        CudaBuffer s = of(src);
        long n = s.length();
        if (s.storage() == DType.BF16) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment half = arena.allocate(n * 2, 8);
                cuda.download(s.memory(), half);
                for (long i = 0; i < n; i++) {
                    dst.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, Float.intBitsToFloat((half.getAtIndex(HALF, i) & 0xffff) << 16));
                }
            }
        } else if (dst.isNative()) {
            cuda.download(s.memory(), dst.asSlice(0, s.memory().bytes()));
        } else {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment staged = arena.allocate(s.memory().bytes(), 8);
                cuda.download(s.memory(), staged);
                dst.asSlice(0, staged.byteSize()).copyFrom(staged);
            }
        }
    }

    @Override
    public void copy(Buffer src, Buffer dst) {
        CudaBuffer s = of(src), d = writable(dst);
        sameLength(s, d);
        if (s.storage() == d.storage()) {
            cuda.copy(s.memory(), d.memory(), d.memory().bytes());
        } else if (s.storage() == DType.BF16) {
            kernels.toF32(d.memory(), s.memory(), s.length());
        } else {
            kernels.toBf16(d.memory(), s.memory(), s.length());
        }
    }

    @Override
    public void fill(Buffer buffer, float value) {
        CudaBuffer b = writable(buffer);
        if (value == 0f) {
            cuda.zero(b.memory());
        } else if (b.storage() == DType.BF16) {
            // two bf16 values a word; the model never fills an odd-length activation with anything but zero
            if (b.length() % 2 != 0) throw new IllegalArgumentException("cannot fill an odd-length bf16 buffer " + b + " with " + value);
            int half = toBf16(value) & 0xffff;
            cuda.fillWords(b.memory(), half << 16 | half);
        } else {
            cuda.fill(b.memory(), value);
        }
    }

    // ---- linear algebra ----

    @Override
    public void matmulABt(Buffer a, Buffer b, Buffer c, int m, int n, int k, boolean accumulate) {
        product(false, true, a, b, c, m, n, k, accumulate);
    }

    @Override
    public void matmulAB(Buffer a, Buffer b, Buffer c, int m, int n, int k, boolean accumulate) {
        product(false, false, a, b, c, m, n, k, accumulate);
    }

    @Override
    public void matmulAtB(Buffer a, Buffer b, Buffer c, int m, int n, int k, boolean accumulate) {
        product(true, false, a, b, c, m, n, k, accumulate);
    }

    @Override
    public void matmulAtBt(Buffer a, Buffer b, Buffer c, int m, int n, int k, boolean accumulate) {
        product(true, true, a, b, c, m, n, k, accumulate);
    }

    /** The scaling is the product's alpha: no pass of its own, and c may be bf16. */
    @Override
    public void matmulABtScaled(Buffer a, Buffer b, Buffer c, int m, int n, int k, float alpha) {
        product(false, true, a, b, c, m, n, k, alpha, 0f);
    }

    @Override
    public void matmulAtBtScaled(Buffer a, Buffer b, Buffer c, int m, int n, int k, float alpha) {
        product(true, true, a, b, c, m, n, k, alpha, 0f);
    }

    /**
     * The residual is the base product's C and c its D, so it is added as the product is stored rather than in a
     * pass of its own; the low-rank product then accumulates into c (beta = 1).
     */
    @Override
    public void matmulABtPlusResidual(Buffer a, Buffer b, Buffer ut, Buffer v, Buffer residual, Buffer c, int m, int n, int k, int r) {
        product(false, true, a, b, residual, c, m, n, k, 1f, 1f);
        if (ut != null) matmulAtBt(ut, v, c, m, n, r, true);
    }

    private void product(boolean transA, boolean transB, Buffer a, Buffer b, Buffer c, int m, int n, int k, boolean accumulate) {
        product(transA, transB, a, b, c, m, n, k, 1f, accumulate ? 1f : 0f);
    }

    private void product(boolean transA, boolean transB, Buffer a, Buffer b, Buffer c, int m, int n, int k, float alpha, float beta) {
        product(transA, transB, a, b, c, c, m, n, k, alpha, beta);
    }

    /**
     * d = alpha·op(a)·op(b) + beta·addend, the addend d itself or a buffer of d's type. FLOAT32 precision: exact
     * float32 products. BF16: bf16 operands on the tensor cores with float32 accumulation, float operands read
     * through their bf16 copies. Accumulation is cuBLASLt's beta = 1, never a separate pass.
     */
    private void product(boolean transA, boolean transB, Buffer a, Buffer b, Buffer addend, Buffer d, int m, int n, int k,
                         float alpha, float beta) {
        CudaBuffer ca = of(a), cb = of(b), cadd = of(addend), cd = writable(d);
        sameType(cadd, cd);
        int lda = transA ? m : k, ldb = transB ? k : n;
        if (precision == Precision.FLOAT32) {
            cuda.gemm().matmul(transA, transB, m, n, k, alpha, ca.memory(), lda, cb.memory(), ldb, ElementType.F32,
                    beta, cadd.memory(), cd.memory(), n, ElementType.F32);
        } else {
            DeviceBuffer a16 = asBf16(ca, (long) m * k, 0), b16 = asBf16(cb, (long) k * n, 1);
            cuda.gemm().matmul(transA, transB, m, n, k, alpha, a16, lda, b16, ldb, ElementType.BF16,
                    beta, cadd.memory(), cd.memory(), n, cd.type());
        }
    }

    @Override
    public void matmulNf4ABt(Buffer a, Nf4Buffer w, Buffer c, int m, int n, int k, boolean accumulate) {
        nf4Product(true, a, nf4(w, n, k), c, c, m, n, k, accumulate ? 1f : 0f);
    }

    @Override
    public void matmulNf4AB(Buffer a, Nf4Buffer w, Buffer c, int m, int n, int k, boolean accumulate) {
        nf4Product(false, a, nf4(w, k, n), c, c, m, n, k, accumulate ? 1f : 0f);
    }

    /** As {@link #matmulABtPlusResidual}: the residual is the product's C. */
    @Override
    public void matmulNf4ABtPlusResidual(Buffer a, Nf4Buffer w, Buffer ut, Buffer v, Buffer residual, Buffer c, int m, int n, int k, int r) {
        nf4Product(true, a, nf4(w, n, k), residual, c, m, n, k, 1f);
        if (ut != null) matmulAtBt(ut, v, c, m, n, r, true);
    }

    /**
     * d = a·op(w) + beta·addend (the addend d itself or a buffer of d's type): decoded inside the GEMM where the
     * fused product is on and fits, else the weight dequantized into scratch, then the same product a bf16 (or, in
     * FLOAT32, a float) weight gets.
     */
    private void nf4Product(boolean transB, Buffer a, CudaNf4Buffer w, Buffer addend, Buffer d, int m, int n, int k, float beta) {
        CudaBuffer ca = of(a), cadd = of(addend), cd = writable(d);
        sameType(cadd, cd);
        if (fusedNf4 && Kernels.nf4GemmFits(w.blockSize, m, n, k)) {
            kernels.nf4Gemm(cd.type(), transB, cd.memory(), asBf16(ca, (long) m * k, 0), w.packed, w.codes, w.absmax, w.nestedAbsmax,
                    w.nestedMap, w.nestedBlockSize, w.offset, nf4Codebook(), cadd.memory(), beta, m, n, k);
            return;
        }
        ElementType t = precision == Precision.BF16 ? ElementType.BF16 : ElementType.F32;
        DeviceBuffer left = t == ElementType.BF16 ? asBf16(ca, (long) m * k, 0) : f32(a).memory();
        nf4Scratch().multiply(w, t, transB, (weight, multiprocessors) -> cuda.gemm().matmul(false, transB, m, n, k, 1f, left, k,
                weight, transB ? k : n, t, beta, cadd.memory(), cd.memory(), n, cd.type(), multiprocessors));
    }

    private CudaNf4Buffer nf4(Nf4Buffer buffer, long rows, long columns) {
        requireOpen();
        if (!(buffer instanceof CudaNf4Buffer w)) throw new IllegalArgumentException("not a CUDA NF4 buffer: " + (buffer == null ? "null" : buffer.getClass().getName()));
        if (w.rows != rows || w.columns != columns) throw new IllegalArgumentException(w + " used as [" + rows + ", " + columns + "]");
        return w;
    }

    private DeviceBuffer asBf16(CudaBuffer buffer, long elements, int slot) {
        return buffer.storage() == DType.BF16 ? buffer.memory() : copies.of(buffer, elements, slot);
    }

    @Override
    public void axpy(float alpha, Buffer x, Buffer y) {
        sameLength(x, y);
        CudaBuffer cy = writable(y), cx = of(x);
        if (cy.storage() == DType.BF16 && cx.storage() == DType.F32) {
            kernels.axpyIntoBf16(cy.memory(), cx.memory(), alpha, x.length());
            return;
        }
        sameType(cx, cy);
        kernels.axpy(cy.type(), cy.memory(), cx.memory(), alpha, x.length());
    }

    @Override
    public void scale(Buffer x, float alpha) {
        kernels.scale(f32(writable(x)).memory(), alpha, x.length());
    }

    @Override
    public double sumOfSquares(Buffer x) {
        return sumOfSquares(List.of(x));
    }

    /** Every buffer adds into one double on the GPU, all in one launch; one download, one wait. */
    @Override
    public double sumOfSquares(List<Buffer> xs) {
        cuda.zero(sumOfSquares);
        if (xs.size() == 1) {
            kernels.sumSquares(f32(xs.getFirst()).memory(), xs.getFirst().length(), sumOfSquares);
        } else if (!xs.isEmpty()) {
            long[] columns = new long[2 * xs.size()];
            for (int i = 0; i < xs.size(); i++) {
                columns[i] = f32(xs.get(i)).memory().address();
                columns[xs.size() + i] = xs.get(i).length();
            }
            kernels.sumSquares(squaresTable.of(columns), xs.size(), longest(xs), sumOfSquares);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(ValueLayout.JAVA_DOUBLE);
            cuda.download(sumOfSquares, host);
            return host.get(ValueLayout.JAVA_DOUBLE, 0);
        }
    }

    // ---- layers ----

    /** Float x and weight; out float, or bf16 where it is a kept activation. */
    @Override
    public void rmsNormForward(Buffer x, Buffer weight, Buffer out, Buffer rstd, int rows, int dim, float eps) {
        CudaBuffer o = writable(out);
        if (o.storage() == DType.BF16) {
            kernels.rmsnormForwardToBf16(o.memory(), writable(rstd).memory(), f32(x).memory(), f32(weight).memory(), rows, dim, eps);
        } else {
            kernels.rmsnormForward(ElementType.F32, o.memory(), writable(rstd).memory(), f32(x).memory(), f32(weight).memory(), rows, dim, eps);
        }
    }

    /**
     * In bf16 precision dx (the residual stream's gradient) also goes to its bf16 copy in the same pass: the next
     * products (the layer's down or output projection) read it in bf16.
     */
    @Override
    public void rmsNormBackward(Buffer dout, Buffer x, Buffer weight, Buffer rstd, Buffer dResidual, Buffer dx, Buffer dweight, int rows, int dim) {
        DeviceBuffer residual = dResidual == null ? null : f32(dResidual).memory();
        CudaBuffer d = f32(writable(dx));
        long n = (long) rows * dim;
        DeviceBuffer copy = precision == Precision.BF16 ? copies.target(d, n, 0) : null;
        if (kernels.rmsnormBackward(ElementType.F32, d.memory(), copy, residual, f32(dout).memory(), f32(x).memory(),
                f32(weight).memory(), f32(rstd).memory(), rows, dim)) {
            copies.produced(d, n, 0);
        }
        if (dweight != null) {
            kernels.rmsnormWeightGrad(f32(writable(dweight)).memory(), f32(dout).memory(), f32(x).memory(), f32(rstd).memory(), rows, dim);
        }
    }

    @Override
    public void rope(Buffer x, Buffer positions, Buffer cos, Buffer sin, int rows, int heads, int headDim, boolean inverse) {
        CudaBuffer cx = writable(x);
        kernels.rope(cx.type(), cx.memory(), ints(positions).memory(), f32(cos).memory(),
                f32(sin).memory(), rows, heads, headDim, inverse);
    }

    /** Flash-style: only each query row's log-sum-exp, from which the backward pass rebuilds the probabilities. */
    @Override
    public long attentionSavedLength(AttentionShape s) {
        return (long) s.batch() * s.numHeads() * s.queryLen();
    }

    /**
     * {@code probs} receives each query row's log-sum-exp ([batch, heads, queryLen]). q, k, v and out share one
     * type: float, or bf16 where they are kept activations.
     */
    @Override
    public void attentionForward(Buffer q, Buffer k, Buffer v, Buffer validLengths, Buffer out, Buffer probs, AttentionShape s) {
        long stats = attentionSavedLength(s);
        DeviceBuffer lse = probs != null ? statisticsIn(probs, stats) : attentionScratch(stats);
        CudaBuffer cq = of(q), o = sameType(writable(out), cq);
        ElementType t = cq.type();
        float scale = (float) (1.0 / Math.sqrt(s.headDim()));
        switch (attentionPath(s, cq, of(k), of(v), o)) {
            case TENSOR_CORES -> kernels.attentionMmaForward(o.memory(), lse, cq.memory(), sameType(k, cq).memory(), sameType(v, cq).memory(),
                    ints(validLengths).memory(), s.batch(), s.queryLen(), s.numHeads(), s.numKvHeads(), s.headDim(), scale);
            case PRODUCTS -> products.forward(t, o.memory(), lse, cq.memory(), sameType(k, cq).memory(), sameType(v, cq).memory(),
                    ints(validLengths).memory(), s);
            case CUDA_CORES -> kernels.attentionForward(t, o.memory(), lse, cq.memory(), sameType(k, cq).memory(),
                sameType(v, cq).memory(), ints(validLengths).memory(), s.batch(), s.queryLen(), s.keyStride(), s.pastLen(),
                s.numHeads(), s.numKvHeads(), s.headDim(), scale);
        }
    }

    /** The tensor-core kernels read the forward output {@code out}; the batched products and CUDA-core kernels do not. */
    @Override
    public void attentionBackward(Buffer dout, Buffer q, Buffer k, Buffer v, Buffer out, Buffer probs, Buffer validLengths,
                                  Buffer dq, Buffer dk, Buffer dv, AttentionShape s) {
        long stats = attentionSavedLength(s);
        CudaBuffer cq = of(q), g = of(dout);
        float scale = (float) (1.0 / Math.sqrt(s.headDim()));
        AttentionPath path = attentionPath(s, cq, of(k), of(v), of(out), g, of(dq), of(dk), of(dv));
        if (path == AttentionPath.TENSOR_CORES) {
            kernels.attentionMmaBackward(g.type(), writable(sameType(dq, g)).memory(), writable(sameType(dk, g)).memory(),
                    writable(sameType(dv, g)).memory(), attentionScratch(stats), cq.memory(), sameType(k, cq).memory(),
                    sameType(v, cq).memory(), sameType(out, cq).memory(), g.memory(), statisticsIn(probs, stats), ints(validLengths).memory(),
                    s.batch(), s.queryLen(), s.numHeads(), s.numKvHeads(), s.headDim(), scale);
            return;
        }
        if (path == AttentionPath.PRODUCTS) {
            products.backward(cq.type(), g.type(), writable(sameType(dq, g)).memory(), writable(sameType(dk, g)).memory(),
                    writable(sameType(dv, g)).memory(), g.memory(), cq.memory(), sameType(k, cq).memory(), sameType(v, cq).memory(),
                    statisticsIn(probs, stats), ints(validLengths).memory(), s);
            return;
        }
        long partials = Kernels.attentionPartialBytes(s.batch(), s.keyStride(), s.numHeads(), s.headDim()) / Float.BYTES;
        DeviceBuffer scratch = attentionScratch(stats + partials);
        kernels.attentionBackward(cq.type(), g.type(), writable(sameType(dq, g)).memory(), writable(sameType(dk, g)).memory(),
                writable(sameType(dv, g)).memory(),
                scratch.slice(0, stats * Float.BYTES), scratch.slice(stats * Float.BYTES, partials * Float.BYTES), cq.memory(),
                sameType(k, cq).memory(), sameType(v, cq).memory(), g.memory(),
                statisticsIn(probs, stats), ints(validLengths).memory(), s.batch(), s.queryLen(), s.keyStride(), s.pastLen(),
                s.numHeads(), s.numKvHeads(), s.headDim(), scale);
    }

    /**
     * The one place attention picks its kernels. In bf16 precision, with bf16 q, k and v over whole sequences: the
     * fused tensor-core kernels where they are built for the head dim and every buffer is 16-byte aligned, else the
     * batched products; everything else (float32, a KV cache) takes the CUDA-core flash kernels. All three keep the
     * same log-sum-exp, so a forward pass on one path pairs with a backward pass on another.
     */
    AttentionPath attentionPath(AttentionShape s, CudaBuffer q, CudaBuffer... others) {
        if (products == null || !GemmAttention.fits(s)) return AttentionPath.CUDA_CORES;
        boolean fused = fusedAttention && q.storage() == DType.BF16
                && kernels.attentionMmaFits(s.queryLen(), s.keyStride(), s.pastLen(), s.numHeads(), s.numKvHeads(), s.headDim())
                && q.memory().address() % 16 == 0;
        for (CudaBuffer b : others) fused &= b.memory().address() % 16 == 0;
        return fused ? AttentionPath.TENSOR_CORES : AttentionPath.PRODUCTS;
    }

    private DeviceBuffer statisticsIn(Buffer probs, long count) {
        CudaBuffer p = writable(probs);
        if (p.length() < count) throw new IllegalArgumentException("attention statistics need " + count + " floats, " + p + " is smaller");
        return p.memory().slice(0, count * Float.BYTES);
    }

    private DeviceBuffer attentionScratch(long floats) {
        if (attentionScratch == null || attentionScratch.bytes() < floats * Float.BYTES) {
            if (attentionScratch != null) cuda.free(attentionScratch);
            attentionScratch = cuda.allocate(floats * Float.BYTES);
        }
        return attentionScratch.slice(0, floats * Float.BYTES);
    }

    @Override
    public void swigluForward(Buffer gate, Buffer up, Buffer out) {
        sameLength(gate, up);
        int n = elementCount(gate);
        CudaBuffer o = writable(out);
        kernels.swigluForward(o.type(), o.memory(), sameType(gate, o).memory(), sameType(up, o).memory(), 1, n, n, n);
    }

    /**
     * gate and up float, or bf16 where they are kept activations; the gradients float, or all bf16 where they are
     * bf16 gradient storage too.
     */
    @Override
    public void swigluBackward(Buffer dout, Buffer gate, Buffer up, Buffer dgate, Buffer dup) {
        int n = elementCount(gate);
        swigluBackward(dout, gate, up, writable(dgate), writable(dup), 1, n, n);
    }

    /** As {@link #swigluBackward(Buffer, Buffer, Buffer, Buffer, Buffer)}, dup starting {@code cols} elements into dgateUp. */
    @Override
    public void swigluBackwardGateUp(Buffer dout, Buffer gate, Buffer up, Buffer dgateUp, int rows, int cols) {
        Backend.checkGateUp(gate, dgateUp, rows, cols);
        CudaBuffer joined = writable(dgateUp);
        swigluBackward(dout, gate, up, joined, joined.slice(cols, dgateUp.length() - cols), rows, cols, 2 * cols);
    }

    private void swigluBackward(Buffer dout, Buffer gate, Buffer up, CudaBuffer dgate, CudaBuffer dup, int rows, int cols, int ldd) {
        sameLength(gate, dout);
        sameLength(gate, up);
        CudaBuffer g = of(gate), u = sameType(up, g), dh = of(dout), dg = sameType(dgate, dh), du = sameType(dup, dh);
        if (g.storage() == DType.BF16 && dh.storage() == DType.F32) {
            kernels.swigluBackwardFromBf16(dg.memory(), du.memory(), dh.memory(), g.memory(), u.memory(), rows, cols, cols, cols, ldd);
        } else {
            sameType(dh, g);
            kernels.swigluBackward(g.type(), dg.memory(), du.memory(), dh.memory(), g.memory(), u.memory(), rows, cols, cols, cols, ldd);
        }
    }

    @Override
    public void gatherRows(Buffer table, Buffer indices, Buffer out, int rows, int dim) {
        CudaBuffer t = of(table);
        if (t.storage() == DType.BF16) {
            kernels.gatherRowsFromBf16(f32(writable(out)).memory(), t.memory(), ints(indices).memory(), rows, dim);
        } else {
            kernels.gatherRows(ElementType.F32, f32(writable(out)).memory(), t.memory(), ints(indices).memory(), rows, dim);
        }
    }

    @Override
    public void scatterAddRows(Buffer src, Buffer indices, Buffer table, int rows, int dim) {
        CudaBuffer cs = of(src);
        kernels.scatterAddRows(cs.type(), f32(writable(table)).memory(), cs.memory(), ints(indices).memory(), rows, dim);
    }

    /** Row statistics in one kernel pass, then the gradient in place in a second; only the per-row losses come back. */
    @Override
    public double crossEntropy(Buffer logits, Buffer targets, int rows, int vocab, float gradScale) {
        CudaBuffer l = f32(writable(logits));
        DeviceBuffer s = statistics(rows);
        long row = (long) rows * Float.BYTES;
        DeviceBuffer rowMax = s.slice(0, row), rowSum = s.slice(row, row), target = s.slice(2 * row, row),
                loss = s.slice(3 * row, row), lse = s.slice(4 * row, row), dloss = s.slice(5 * row, row);
        cuda.fill(rowMax, Float.NEGATIVE_INFINITY);
        cuda.zero(rowSum);
        kernels.crossEntropyChunk(l.memory(), rows, vocab, 0, ints(targets).memory(), rowMax, rowSum, target);
        kernels.crossEntropyFinish(loss, lse, rowMax, rowSum, target, rows);
        if (gradScale != 0f) {
            cuda.fill(dloss, gradScale);
            kernels.crossEntropyChunkGrad(ElementType.F32, l.memory(), l.memory(), rows, vocab, 0, ints(targets).memory(), lse, dloss);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(row);
            cuda.download(loss, host);
            double sum = 0;
            for (int r = 0; r < rows; r++) sum += host.getAtIndex(ValueLayout.JAVA_FLOAT, r);
            return sum;
        }
    }

    private DeviceBuffer statistics(int rows) {
        if (statistics == null || statisticsRows < rows) {
            if (statistics != null) cuda.free(statistics);
            statistics = cuda.allocate(6L * rows * Float.BYTES);
            statisticsRows = rows;
        }
        return statistics;
    }

    @Override
    public void dropout(Buffer x, Buffer out, float p, long seed) {
        sameLength(x, out);
        if (x.length() > Integer.MAX_VALUE) throw new IllegalArgumentException("dropout over more than 2^31 elements");
        CudaBuffer cx = of(x);
        kernels.dropout(cx.type(), f32(writable(out)).memory(), cx.memory(), x.length(), p, seed);
    }

    // ---- optimizer ----

    @Override
    public void adamw(Buffer param, Buffer grad, Buffer m, Buffer v, AdamW h) {
        sameLength(param, grad);
        update(param, f32(grad), m, v, h, null);
    }

    /**
     * Every parameter in one launch; the clipping factor rides into each update through one float on the GPU,
     * so there is no separate scaling pass.
     */
    @Override
    public void adamw(List<Buffer> params, List<Buffer> grads, List<Buffer> m, List<Buffer> v, AdamW h, float scale) {
        DeviceBuffer factor = null;
        if (scale != 1f) {
            cuda.fill(gradScale, scale);
            factor = gradScale;
        }
        int n = params.size();
        if (n == 0) return;
        long[] columns = new long[6 * n];
        for (int i = 0; i < n; i++) {
            CudaBuffer p = f32(of(params.get(i)));
            sameLength(p, grads.get(i));
            sameLength(p, m.get(i));
            sameLength(p, v.get(i));
            DeviceBuffer shadow = copies.refreshable(p);
            columns[i] = writable(p).memory().address();
            columns[n + i] = f32(writable(grads.get(i))).memory().address();
            columns[2 * n + i] = f32(writable(m.get(i))).memory().address();
            columns[3 * n + i] = f32(writable(v.get(i))).memory().address();
            columns[4 * n + i] = shadow == null ? 0 : shadow.address();
            columns[5 * n + i] = p.length();
        }
        kernels.adamw(updateTable.of(columns), n, longest(params), h.lr(), h.beta1(), h.beta2(), h.eps(), h.weightDecay(), h.step(), factor);
        for (int i = 0; i < n; i++) if (columns[4 * n + i] != 0) copies.refreshed(of(params.get(i)));
    }

    private static long longest(List<Buffer> buffers) {
        return buffers.stream().mapToLong(Buffer::length).max().orElse(0);
    }

    /** The AdamW kernel, which also rewrites the parameter's bf16 copy where the products keep one. */
    private void update(Buffer param, CudaBuffer grad, Buffer m, Buffer v, AdamW h, DeviceBuffer factor) {
        CudaBuffer p = f32(of(param));
        DeviceBuffer shadow = copies.refreshable(p);
        kernels.adamw(shadow != null ? ElementType.BF16 : ElementType.F32, writable(p).memory(), grad.memory(), f32(writable(m)).memory(),
                f32(writable(v)).memory(), shadow, param.length(), h.lr(), h.beta1(), h.beta2(), h.eps(), h.weightDecay(), h.step(), factor);
        if (shadow != null) copies.refreshed(p);
    }

    /**
     * Waits for all work, then frees the device memory the backend holds for itself: scratch, statistics, bf16
     * copies, NF4 slots. The buffers it allocated for callers are theirs, each freed once unreachable. Using the
     * backend after closing it throws {@link IllegalStateException}; closing it again does nothing.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        cuda.synchronize();
        for (DeviceBuffer held : new DeviceBuffer[] {sumOfSquares, gradScale, statistics, attentionScratch, nf4Codebook}) {
            if (held != null) cuda.free(held);
        }
        copies.close();
        squaresTable.close();
        updateTable.close();
        if (products != null) products.close();
        if (nf4Scratch != null) nf4Scratch.close();
        cuda.synchronize();
    }

    // ---- checks ----

    /** Every allocation and every buffer a kernel takes passes here: a closed backend has freed what its kernels use. */
    private void requireOpen() {
        if (closed) throw new IllegalStateException("this CUDA backend is closed");
    }

    private CudaBuffer of(Buffer buffer) {
        requireOpen();
        if (buffer instanceof CudaBuffer c) return c;
        throw new IllegalArgumentException("not a CUDA buffer: " + (buffer == null ? "null" : buffer.getClass().getName()));
    }

    private CudaBuffer f32(Buffer buffer) {
        CudaBuffer c = of(buffer);
        if (c.storage() != DType.F32) throw new IllegalArgumentException("this kernel needs a float32 buffer, got " + c);
        return c;
    }

    private CudaBuffer ints(Buffer buffer) {
        CudaBuffer c = of(buffer);
        if (c.storage() != DType.I32) throw new IllegalArgumentException("this kernel needs an int32 buffer, got " + c);
        return c;
    }

    /**
     * Every output passes here: it must not be a frozen, read-only bf16 weight, and the write makes the bf16
     * copies of its memory stale.
     */
    private CudaBuffer writable(Buffer buffer) {
        CudaBuffer c = of(buffer);
        if (c.frozen()) throw new IllegalArgumentException("cannot write into a frozen bf16 weight " + c);
        c.allocation().written();
        return c;
    }

    /** {@code buffer}, which the kernel needs in the same element type as {@code like}. */
    private CudaBuffer sameType(Buffer buffer, CudaBuffer like) {
        CudaBuffer c = of(buffer);
        if (c.storage() != like.storage()) throw new IllegalArgumentException("this kernel needs " + c + " stored as " + like.storage() + ", like " + like);
        return c;
    }

    private static int elementCount(Buffer b) {
        return Math.toIntExact(b.length());
    }

    private static void sameLength(Buffer a, Buffer b) {
        if (a.length() != b.length()) throw new IllegalArgumentException("buffer lengths differ: " + a.length() + " vs " + b.length());
    }
}
