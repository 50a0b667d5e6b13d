package dev.pricer.core.backend.cpu;

import dev.pricer.core.backend.AdamW;
import dev.pricer.core.backend.AttentionShape;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.Nf4Buffer;
import dev.pricer.core.quant.Nf4Weight;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.pricer.core.backend.cpu.CpuBuffer.of;

/**
 * The pure-Java backend: Vector API kernels, parallel over the cores through the common fork-join pool.
 * Buffers are off-heap segments that the garbage collector frees once unreachable.
 */
public final class CpuBackend implements Backend {

    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble LE_DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Buffer allocate(DType dtype, long length) {
        if (dtype != DType.F32 && dtype != DType.I32) throw new IllegalArgumentException("CPU buffers hold F32 or I32, not " + dtype);
        return new CpuBuffer(dtype, Arena.ofAuto().allocate(Math.max(1, length) * dtype.byteSize(), 64).asSlice(0, length * dtype.byteSize()));
    }

    @Override
    public Buffer upload(HostTensor tensor, boolean writable) {
        long n = tensor.elementCount();
        MemorySegment src = tensor.data();
        if (!tensor.dtype().isFloatingPoint()) {
            Buffer out = allocate(DType.I32, n);
            MemorySegment.copy(tensor.toIntArray(), 0, of(out), Vec.INT, 0, (int) n);
            return out;
        }
        if (tensor.dtype() == DType.F32 && !writable && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            return new CpuBuffer(DType.F32, src);
        }
        Buffer out = allocate(DType.F32, n);
        MemorySegment dst = of(out);
        Vec.blocks(n, 1 << 16, (s, e) -> {
            for (long i = s; i < e; i++) Vec.set(dst, i, toFloat(tensor.dtype(), src, i));
        });
        return out;
    }

    private static float toFloat(DType dtype, MemorySegment src, long i) {
        return switch (dtype) {
            case F32 -> src.getAtIndex(LE_FLOAT, i);
            case BF16 -> Float.intBitsToFloat((src.getAtIndex(HALF, i) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(src.getAtIndex(HALF, i));
            case F64 -> (float) src.getAtIndex(LE_DOUBLE, i);
            default -> throw new IllegalArgumentException("not a float dtype: " + dtype);
        };
    }

    @Override
    public void copyFromHost(MemorySegment src, Buffer dst) {
        of(dst).copyFrom(src.asSlice(0, of(dst).byteSize()));
    }

    @Override
    public void copyToHost(Buffer src, MemorySegment dst) {
        dst.asSlice(0, of(src).byteSize()).copyFrom(of(src));
    }

    @Override
    public void copy(Buffer src, Buffer dst) {
        of(dst).copyFrom(of(src));
    }

    @Override
    public void fill(Buffer buffer, float value) {
        MemorySegment s = of(buffer);
        if (value == 0f) {
            s.fill((byte) 0);
            return;
        }
        Vec.blocks(buffer.length(), 1 << 16, (a, e) -> {
            for (long i = a; i < e; i++) Vec.set(s, i, value);
        });
    }

    @Override
    public void matmulABt(Buffer a, Buffer b, Buffer c, int m, int n, int k, boolean accumulate) {
        CpuMatmul.matmulABt(of(a), of(b), of(c), m, n, k, accumulate);
    }

    @Override
    public void matmulAB(Buffer a, Buffer b, Buffer c, int m, int n, int k, boolean accumulate) {
        CpuMatmul.matmulAB(of(a), of(b), of(c), m, n, k, accumulate);
    }

    @Override
    public void matmulAtB(Buffer a, Buffer b, Buffer c, int m, int n, int k, boolean accumulate) {
        CpuMatmul.matmulAtB(of(a), of(b), of(c), m, n, k, accumulate);
    }

    @Override
    public void matmulAtBt(Buffer a, Buffer b, Buffer c, int m, int n, int k, boolean accumulate) {
        CpuMatmul.matmulAtBt(of(a), of(b), of(c), m, n, k, accumulate);
    }

    /**
     * LoRA's down-projection {@code uᵀ = s·A·xᵀ}: packed whatever m, so it gives the floats of the untransposed
     * {@code x·Aᵀ} that the golden fixtures were matched with ({@link CpuMatmul#matmulABtPacked}).
     */
    @Override
    public void matmulABtScaled(Buffer a, Buffer b, Buffer c, int m, int n, int k, float alpha) {
        CpuMatmul.matmulABtPacked(of(a), of(b), of(c), m, n, k);
        scale(c, alpha);
    }

    @Override
    public Nf4Buffer uploadNf4(Nf4Weight weight) {
        return new CpuNf4Buffer(weight);
    }

    @Override
    public void matmulNf4ABt(Buffer a, Nf4Buffer w, Buffer c, int m, int n, int k, boolean accumulate) {
        Nf4Matmul.matmulABt(of(a), CpuNf4Buffer.of(w, n, k), of(c), m, accumulate);
    }

    @Override
    public void matmulNf4AB(Buffer a, Nf4Buffer w, Buffer c, int m, int n, int k, boolean accumulate) {
        Nf4Matmul.matmulAB(of(a), CpuNf4Buffer.of(w, k, n), of(c), m, accumulate);
    }

    @Override
    public void axpy(float alpha, Buffer x, Buffer y) {
        sameLength(x, y);
        CpuElementwise.axpy(alpha, of(x), of(y), x.length());
    }

    @Override
    public void scale(Buffer x, float alpha) {
        CpuElementwise.scale(of(x), alpha, x.length());
    }

    @Override
    public double sumOfSquares(Buffer x) {
        return CpuElementwise.sumOfSquares(of(x), x.length());
    }

    @Override
    public void rmsNormForward(Buffer x, Buffer weight, Buffer out, Buffer rstd, int rows, int dim, float eps) {
        CpuNorm.forward(of(x), of(weight), of(out), of(rstd), rows, dim, eps);
    }

    @Override
    public void rmsNormBackward(Buffer dout, Buffer x, Buffer weight, Buffer rstd, Buffer dResidual, Buffer dx, Buffer dweight, int rows, int dim) {
        CpuNorm.backward(of(dout), of(x), of(weight), of(rstd), dResidual == null ? null : of(dResidual), of(dx),
                dweight == null ? null : of(dweight), rows, dim);
    }

    @Override
    public void rope(Buffer x, Buffer positions, Buffer cos, Buffer sin, int rows, int heads, int headDim, boolean inverse) {
        CpuRope.apply(of(x), of(positions), of(cos), of(sin), rows, heads, headDim, inverse);
    }

    @Override
    public void attentionForward(Buffer q, Buffer k, Buffer v, Buffer validLengths, Buffer out, Buffer probs, AttentionShape shape) {
        CpuBlockedAttention.forward(of(q), of(k), of(v), of(validLengths), of(out), probs == null ? null : of(probs), shape);
    }

    /** Ignores {@code out}: with the probabilities saved, the row term is one more pass over them, not over the keys. */
    @Override
    public void attentionBackward(Buffer dout, Buffer q, Buffer k, Buffer v, Buffer out, Buffer probs, Buffer validLengths,
                                  Buffer dq, Buffer dk, Buffer dv, AttentionShape shape) {
        CpuBlockedAttention.backward(of(dout), of(q), of(k), of(v), of(probs), of(validLengths), of(dq), of(dk), of(dv), shape);
    }

    @Override
    public void swigluForward(Buffer gate, Buffer up, Buffer out) {
        sameLength(gate, up);
        CpuElementwise.swigluForward(of(gate), of(up), of(out), gate.length());
    }

    @Override
    public void swigluBackward(Buffer dout, Buffer gate, Buffer up, Buffer dgate, Buffer dup) {
        sameLength(gate, dout);
        long n = gate.length();
        CpuElementwise.swigluBackward(of(dout), of(gate), of(up), of(dgate), of(dup), n, n, n);
    }

    @Override
    public void swigluBackwardGateUp(Buffer dout, Buffer gate, Buffer up, Buffer dgateUp, int rows, int cols) {
        sameLength(gate, dout);
        sameLength(gate, up);
        Backend.checkGateUp(gate, dgateUp, rows, cols);
        MemorySegment joined = of(dgateUp);
        CpuElementwise.swigluBackward(of(dout), of(gate), of(up), joined, joined.asSlice((long) cols * Float.BYTES), gate.length(), cols, 2L * cols);
    }

    @Override
    public void gatherRows(Buffer table, Buffer indices, Buffer out, int rows, int dim) {
        CpuRows.gather(of(table), of(indices), of(out), rows, dim);
    }

    @Override
    public void scatterAddRows(Buffer src, Buffer indices, Buffer table, int rows, int dim) {
        CpuRows.scatterAdd(of(src), of(indices), of(table), rows, dim);
    }

    @Override
    public double crossEntropy(Buffer logits, Buffer targets, int rows, int vocab, float gradScale) {
        return CpuRows.crossEntropy(of(logits), of(targets), rows, vocab, gradScale);
    }

    @Override
    public void dropout(Buffer x, Buffer out, float p, long seed) {
        sameLength(x, out);
        CpuElementwise.dropout(of(x), of(out), p, seed, x.length());
    }

    @Override
    public void adamw(Buffer param, Buffer grad, Buffer m, Buffer v, AdamW hyper) {
        sameLength(param, grad);
        CpuElementwise.adamw(of(param), of(grad), of(m), of(v), hyper, param.length());
    }

    private static void sameLength(Buffer a, Buffer b) {
        if (a.length() != b.length()) throw new IllegalArgumentException("buffer lengths differ: " + a.length() + " vs " + b.length());
    }

    @Override
    public void close() {
        // Segments come from automatic arenas: nothing to release eagerly.
    }
}
