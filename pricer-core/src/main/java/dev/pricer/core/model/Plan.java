package dev.pricer.core.model;

import dev.pricer.core.backend.AttentionShape;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.tensor.DType;

import java.util.stream.IntStream;

/**
 * Every buffer one batch shape needs, allocated once and reused while the shape repeats. With {@code backward},
 * each layer keeps its own activations; without, all layers share one set and the residual stream ping-pongs
 * between two buffers. With {@code checkpointing} (backward only), each layer keeps only its input (the residual
 * stream) and all layers share one set of activations, which the backward pass recomputes layer by layer.
 */
final class Plan {

    final int batch;
    final int seqLen;
    final int rows;
    final boolean backward;
    final boolean checkpointing;
    final Buffer ids;
    final Buffer positions;
    final Buffer lengths;
    final Buffer[] resid;
    final LayerActivations[] acts;
    final Buffer finalNormed;
    final Buffer finalRstd;
    final Buffer gradIn;
    final Buffer gradOut;
    final Buffer gradFinal;
    final Workspace workspace;
    private final Backend backend;
    private final int hidden;
    private final int vocab;
    private Buffer head;
    private Buffer logits;

    Plan(Backend be, LlamaConfig c, int batch, int seqLen, boolean backward, boolean checkpointing, int[] loraRanks) {
        this.backend = be;
        this.batch = batch;
        this.seqLen = seqLen;
        this.rows = batch * seqLen;
        this.backward = backward;
        this.checkpointing = checkpointing;
        this.hidden = c.hiddenSize();
        this.vocab = c.vocabSize();
        long h = (long) rows * hidden;
        ids = be.allocate(DType.I32, rows);
        positions = be.allocate(DType.I32, rows);
        lengths = be.allocate(DType.I32, batch);
        int layers = c.numLayers();
        resid = new Buffer[layers + 1];
        acts = new LayerActivations[layers];
        long probs = backward ? be.attentionSavedLength(new AttentionShape(batch, seqLen, seqLen, 0, c.numHeads(), c.numKvHeads(), c.headDim())) : 0;
        Buffer[] pingPong = backward ? null : new Buffer[]{be.allocate(DType.F32, h), be.allocate(DType.F32, h)};
        boolean perLayer = backward && !checkpointing;
        LayerActivations shared = perLayer ? null : LayerActivations.allocate(be, c, rows, null, null, probs, loraRanks, backward);
        for (int l = 0; l <= layers; l++) resid[l] = backward ? be.allocate(DType.F32, h) : pingPong[l % 2];
        for (int l = 0; l < layers; l++) acts[l] = perLayer ? LayerActivations.allocate(be, c, rows, null, null, probs, loraRanks, true) : shared;
        finalNormed = be.allocate(DType.F32, h);
        finalRstd = be.allocate(DType.F32, rows);
        gradIn = backward ? be.allocate(DType.F32, h) : null;
        gradOut = backward ? be.allocate(DType.F32, h) : null;
        gradFinal = backward ? be.allocate(DType.F32, h) : null;
        workspace = Workspace.allocate(be, c, rows, IntStream.of(loraRanks).sum(), backward);
    }

    boolean fits(int batch, int seqLen, boolean backward, boolean checkpointing) {
        return this.batch == batch && this.seqLen == seqLen && this.backward == backward && this.checkpointing == checkpointing;
    }

    /** Room for {@code n} selected rows of hidden states ([n, hidden]), grown on demand. */
    Buffer head(int n) {
        if (head == null || head.length() < (long) n * hidden) head = backend.allocate(DType.F32, (long) Math.max(n, rows) * hidden);
        return head.slice(0, (long) n * hidden);
    }

    /** Room for {@code n} rows of logits ([n, vocab]), grown on demand: only label positions ever get logits. */
    Buffer logits(int n) {
        if (logits == null || logits.length() < (long) n * vocab) logits = backend.allocate(DType.F32, (long) n * vocab);
        return logits.slice(0, (long) n * vocab);
    }
}
