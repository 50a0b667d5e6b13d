package dev.pricer.core.model;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.tensor.DType;

import java.util.function.LongFunction;
import java.util.stream.IntStream;

/**
 * What one decoder layer saves in its forward pass for its backward pass, for {@code rows} tokens.
 * {@code k} and {@code v} may be views into a KV cache; {@code probs} is null when nothing will run backward.
 * {@code lora} holds the LoRA intermediates, transposed: {@code [Σr, rows]}, each adapted projection's {@code r}
 * rows in projection order ({@link DecoderLayer}), so those sharing an input form one block; null without an
 * adapter. With {@code kept} (a
 * training plan, where every layer keeps its own), the projections' inputs and outputs are the backend's
 * {@link Backend#allocateActivations} (bf16 on CUDA in bf16 precision), and so are the LoRA intermediates
 * {@code s·x·Aᵀ}, which only feed products; the residual stream and norm statistics stay float32.
 */
record LayerActivations(Buffer xn1, Buffer rstd1, Buffer q, Buffer k, Buffer v, Buffer probs, Buffer att,
                        Buffer resid2, Buffer xn2, Buffer rstd2, Buffer gate, Buffer up, Buffer act, Buffer lora) {

    static LayerActivations allocate(Backend be, LlamaConfig c, int rows, Buffer k, Buffer v, long probCount, int[] loraRanks, boolean kept) {
        LongFunction<Buffer> act = kept ? be::allocateActivations : n -> be.allocate(DType.F32, n);
        int totalRank = IntStream.of(loraRanks).sum();
        long h = (long) rows * c.hiddenSize(), i = (long) rows * c.intermediateSize();
        return new LayerActivations(
                act.apply(h), be.allocate(DType.F32, rows),
                act.apply((long) rows * c.qDim()),
                k != null ? k : act.apply((long) rows * c.kvDim()),
                v != null ? v : act.apply((long) rows * c.kvDim()),
                probCount > 0 ? be.allocate(DType.F32, probCount) : null,
                act.apply((long) rows * c.qDim()),
                be.allocate(DType.F32, h), act.apply(h), be.allocate(DType.F32, rows),
                act.apply(i), act.apply(i), act.apply(i), totalRank > 0 ? act.apply((long) rows * totalRank) : null);
    }
}
