package dev.pricer.cuda;

/**
 * Cross-entropy of the language-model head at the label positions only, over vocabulary chunks: the
 * logits of {@code chunk} vocabulary rows at a time are produced by one product, folded into running row
 * statistics and dropped, so the full [rows × vocab] logits never exist. The backward pass recomputes each
 * chunk's logits, turns them into dlogits and accumulates dhidden with one more product.
 */
public final class ChunkedCrossEntropy implements AutoCloseable {

    private final Kernels kernels;
    private final Cuda cuda;
    private final ElementType type;
    private final int maxRows, dim, vocab, chunk;
    private final DeviceBuffer logits, dlogits, rowMax, rowSum, targetLogit, lse;

    public ChunkedCrossEntropy(Kernels kernels, ElementType type, int maxRows, int dim, int vocab, int chunk) {
        this.kernels = kernels;
        this.cuda = kernels.cuda();
        this.type = type;
        this.maxRows = maxRows;
        this.dim = dim;
        this.vocab = vocab;
        this.chunk = Math.min(chunk, vocab);
        logits = cuda.allocate((long) maxRows * this.chunk * Float.BYTES);
        dlogits = cuda.allocate((long) maxRows * this.chunk * type.bytes());
        rowMax = cuda.allocate((long) maxRows * Float.BYTES);
        rowSum = cuda.allocate((long) maxRows * Float.BYTES);
        targetLogit = cuda.allocate((long) maxRows * Float.BYTES);
        lse = cuda.allocate((long) maxRows * Float.BYTES);
    }

    /**
     * loss[r] (float) = logsumexp(hidden[r]·Wᵀ) - (hidden[r]·Wᵀ)[target[r]] for hidden [rows, dim] and the
     * head's weight [vocab, dim], both of this object's type; targets are int.
     */
    public void forward(DeviceBuffer hidden, DeviceBuffer weight, DeviceBuffer targets, int rows, DeviceBuffer loss) {
        checkRows(rows);
        cuda.fill(rowMax.slice(0, (long) rows * Float.BYTES), Float.NEGATIVE_INFINITY);
        cuda.zero(rowSum.slice(0, (long) rows * Float.BYTES));
        for (int c0 = 0; c0 < vocab; c0 += chunk) {
            int cols = Math.min(chunk, vocab - c0);
            chunkLogits(hidden, weight, rows, c0, cols);
            kernels.crossEntropyChunk(logits, rows, cols, c0, targets, rowMax, rowSum, targetLogit);
        }
        kernels.crossEntropyFinish(loss, lse, rowMax, rowSum, targetLogit, rows);
    }

    /**
     * dhidden [rows, dim] (+)= dloss[r]·(softmax - onehot)·W, after {@link #forward} on the same inputs;
     * dloss is float [rows], the weight of each row's loss in the total.
     */
    public void backward(DeviceBuffer hidden, DeviceBuffer weight, DeviceBuffer targets, int rows, DeviceBuffer dloss,
                         DeviceBuffer dhidden, boolean accumulate) {
        checkRows(rows);
        for (int c0 = 0; c0 < vocab; c0 += chunk) {
            int cols = Math.min(chunk, vocab - c0);
            chunkLogits(hidden, weight, rows, c0, cols);
            kernels.crossEntropyChunkGrad(type, dlogits, logits, rows, cols, c0, targets, lse, dloss);
            float beta = accumulate || c0 > 0 ? 1f : 0f;
            cuda.gemm().matmul(false, false, rows, dim, cols, 1f, dlogits, cols,
                    weight.slice((long) c0 * dim * type.bytes(), (long) cols * dim * type.bytes()), dim, type,
                    beta, dhidden, dim, type);
        }
    }

    private void chunkLogits(DeviceBuffer hidden, DeviceBuffer weight, int rows, int c0, int cols) {
        DeviceBuffer w = weight.slice((long) c0 * dim * type.bytes(), (long) cols * dim * type.bytes());
        cuda.gemm().matmul(false, true, rows, cols, dim, 1f, hidden, dim, w, dim, type, 0f, logits, cols, ElementType.F32);
    }

    private void checkRows(int rows) {
        if (rows <= 0 || rows > maxRows) throw new IllegalArgumentException(rows + " label rows; this head holds 1.." + maxRows);
    }

    @Override
    public void close() {
        for (DeviceBuffer b : new DeviceBuffer[]{logits, dlogits, rowMax, rowSum, targetLogit, lse}) cuda.free(b);
    }
}
