package dev.pricer.core.model;

import dev.pricer.core.backend.AttentionShape;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.config.LlamaConfig;

/**
 * One Llama decoder layer: {@code h = x + o(attn(rope(q(n1(x))), rope(k(n1(x))), v(n1(x))))},
 * {@code out = h + down(silu(gate(n2(h))) · up(n2(h)))}. Forward and backward are written out step by step;
 * what the backward pass reads is exactly what {@link LayerActivations} holds.
 */
final class DecoderLayer {

    /** The projections by the input they read, in projection order. */
    static final Projection[] ATTENTION_INPUT = {Projection.Q, Projection.K, Projection.V};
    private static final Projection[] ATTENTION_OUTPUT = {Projection.O};
    private static final Projection[] MLP_INPUT = {Projection.GATE, Projection.UP};
    private static final Projection[] MLP_OUTPUT = {Projection.DOWN};

    final int index;
    final Buffer inputNorm;
    final Buffer postNorm;
    final Buffer inputNormGrad;
    final Buffer postNormGrad;
    final Linear[] linears;
    /** {@code [W_gate; W_up]}, whose halves are the gate and up weights, or null where they are apart (see {@link GateUp}). */
    final Buffer gateUp;
    /** The LoRA down-projections of q, k and v stacked into one ({@link LoraDown}), or null where they run one by one. */
    LoraDown attentionDown;
    private final LlamaConfig config;

    DecoderLayer(int index, LlamaConfig config, Buffer inputNorm, Buffer postNorm, Buffer inputNormGrad,
                 Buffer postNormGrad, Linear[] linears, Buffer gateUp) {
        this.index = index;
        this.config = config;
        this.inputNorm = inputNorm;
        this.postNorm = postNorm;
        this.inputNormGrad = inputNormGrad;
        this.postNormGrad = postNormGrad;
        this.linears = linears;
        this.gateUp = gateUp;
    }

    Linear linear(Projection p) {
        return linears[p.ordinal()];
    }

    /**
     * {@code kAll}/{@code vAll} are the keys and values attention reads ({@code a.k()}/{@code a.v()} in training,
     * the whole cache in generation); this pass writes its new keys and values into {@code a.k()}/{@code a.v()},
     * and, when {@code cacheSlots} (I32, one per row) is given, also into those rows of {@code kAll}/{@code vAll}.
     */
    void forward(Backend be, Buffer x, Buffer out, LayerActivations a, Buffer kAll, Buffer vAll, Buffer cacheSlots,
                 Pass pass, Rope rope, Workspace w) {
        int rows = pass.rows(), hidden = config.hiddenSize();
        AttentionShape shape = pass.attention();
        float eps = (float) config.rmsNormEps();
        be.rmsNormForward(x, inputNorm, a.xn1(), a.rstd1(), rows, hidden, eps);
        loraDown(be, a.xn1(), attentionDown, a, pass, w, ATTENTION_INPUT);
        project(be, Projection.Q, a.xn1(), null, a.q(), a, pass, w);
        project(be, Projection.K, a.xn1(), null, a.k(), a, pass, w);
        project(be, Projection.V, a.xn1(), null, a.v(), a, pass, w);
        be.rope(a.q(), pass.positions(), rope.cos(), rope.sin(), rows, config.numHeads(), config.headDim(), false);
        be.rope(a.k(), pass.positions(), rope.cos(), rope.sin(), rows, config.numKvHeads(), config.headDim(), false);
        if (cacheSlots != null) {
            // Each cache slot is written once and starts at zero, so adding the row is storing it.
            be.scatterAddRows(a.k(), cacheSlots, kAll, rows, config.kvDim());
            be.scatterAddRows(a.v(), cacheSlots, vAll, rows, config.kvDim());
        }
        be.attentionForward(a.q(), kAll, vAll, pass.validLengths(), a.att(), a.probs(), shape);
        loraDown(be, a.att(), null, a, pass, w, ATTENTION_OUTPUT);
        project(be, Projection.O, a.att(), x, a.resid2(), a, pass, w);
        be.rmsNormForward(a.resid2(), postNorm, a.xn2(), a.rstd2(), rows, hidden, eps);
        loraDown(be, a.xn2(), null, a, pass, w, MLP_INPUT);
        project(be, Projection.GATE, a.xn2(), null, a.gate(), a, pass, w);
        project(be, Projection.UP, a.xn2(), null, a.up(), a, pass, w);
        be.swigluForward(a.gate(), a.up(), a.act());
        loraDown(be, a.act(), null, a, pass, w, MLP_OUTPUT);
        project(be, Projection.DOWN, a.act(), a.resid2(), out, a, pass, w);
    }

    /** y = p(x), plus {@code residual} unless it is null, after {@link #loraDown} for p. */
    private void project(Backend be, Projection p, Buffer x, Buffer residual, Buffer y, LayerActivations a, Pass pass, Workspace w) {
        linear(p).forward(be, x, residual, y, lora(a.lora(), p, pass.rows()), pass.rows());
    }

    /**
     * The LoRA down-projections of {@code readers}, consecutive projections that read x, into their rows of
     * {@code a.lora()}: as one product where {@link #stackedNow}, else one by one.
     */
    private void loraDown(Backend be, Buffer x, LoraDown stacked, LayerActivations a, Pass pass, Workspace w, Projection[] readers) {
        int rows = pass.rows();
        if (stackedNow(stacked, readers, pass)) {
            stacked.forward(be, x, block(a.lora(), readers[0], stacked.rank(), rows), rows, Linear.Dropout.OFF, w.scratch());
            return;
        }
        for (Projection p : readers) {
            if (linear(p).lora != null) linear(p).down().forward(be, x, lora(a.lora(), p, rows), rows, pass.dropout(index, p), w.scratch());
        }
    }

    /** Whether the readers' A matrices are stacked and no dropout draws a mask per projection in this pass. */
    private boolean stackedNow(LoraDown stacked, Projection[] readers, Pass pass) {
        return stacked != null && !pass.dropout(index, readers[0]).active(stacked.dropout());
    }

    /**
     * Projection p's rows of a LoRA block: the layer's intermediates (and their gradients) are one {@code [Σr, rows]}
     * matrix, each projection's {@code r} rows in projection order, so those sharing an input sit together.
     */
    private Buffer lora(Buffer all, Projection p, int rows) {
        return linear(p).lora == null ? null : block(all, p, linear(p).lora.r(), rows);
    }

    private Buffer block(Buffer all, Projection first, int rank, int rows) {
        long before = 0;
        for (Projection p : Projection.values()) if (p.ordinal() < first.ordinal() && linear(p).lora != null) before += linear(p).lora.r();
        return all.slice(before * rows, (long) rank * rows);
    }

    /**
     * Backward from {@code dOut} (the gradient of this layer's output, consumed: it becomes the gradient of the
     * mid-layer residual) to {@code dIn} (overwritten with the gradient of this layer's input).
     */
    void backward(Backend be, Buffer x, Buffer dOut, Buffer dIn, LayerActivations a, Pass pass, Rope rope, Workspace w) {
        int rows = pass.rows(), hidden = config.hiddenSize();
        projectBack(be, a.act(), w.dact(), null, a, pass, w, MLP_OUTPUT, dOut);
        int inter = config.intermediateSize();
        if (gateUp != null && linear(Projection.GATE).lora == null && linear(Projection.UP).lora == null) {
            // Neither trains: their input gradients are one product with K = 2·intermediate rather than two.
            be.swigluBackwardGateUp(w.dact(), a.gate(), a.up(), w.dgateUp(), rows, inter);
            be.matmulAB(w.dgateUp(), gateUp, w.dxn(), rows, hidden, 2 * inter, false);
        } else {
            long n = (long) rows * inter;
            Buffer dgate = w.dgateUp().slice(0, n), dup = w.dgateUp().slice(n, n);
            be.swigluBackward(w.dact(), a.gate(), a.up(), dgate, dup);
            projectBack(be, a.xn2(), w.dxn(), null, a, pass, w, MLP_INPUT, dgate, dup);
        }
        // dOut now also takes the post-attention norm's share: it becomes the gradient of the residual h.
        be.rmsNormBackward(w.dxn(), a.resid2(), postNorm, a.rstd2(), dOut, dOut, postNormGrad, rows, hidden);
        projectBack(be, a.att(), w.datt(), null, a, pass, w, ATTENTION_OUTPUT, dOut);
        be.attentionBackward(w.datt(), a.q(), a.k(), a.v(), a.att(), a.probs(), pass.validLengths(), w.dq(), w.dk(), w.dv(), pass.attention());
        // The rotation is orthogonal: its backward is the rotation by the opposite angle.
        be.rope(w.dq(), pass.positions(), rope.cos(), rope.sin(), rows, config.numHeads(), config.headDim(), true);
        be.rope(w.dk(), pass.positions(), rope.cos(), rope.sin(), rows, config.numKvHeads(), config.headDim(), true);
        projectBack(be, a.xn1(), w.dxn(), attentionDown, a, pass, w, ATTENTION_INPUT, w.dq(), w.dk(), w.dv());
        // The input's gradient: h's, which reaches x around the attention half, plus the input norm's share.
        be.rmsNormBackward(w.dxn(), x, inputNorm, a.rstd1(), dOut, dIn, inputNormGrad, rows, hidden);
    }

    /**
     * Backward through {@code readers} of x, {@code dys} their output gradients, into {@code dx} (overwritten, then
     * accumulated): each one's base and up-projection, and the down-projections as one product after them all where
     * {@link #stackedNow}, else each right after its own projection.
     */
    private void projectBack(Backend be, Buffer x, Buffer dx, LoraDown stacked, LayerActivations a, Pass pass, Workspace w,
                             Projection[] readers, Buffer... dys) {
        int rows = pass.rows();
        boolean together = stackedNow(stacked, readers, pass);
        for (int i = 0; i < readers.length; i++) {
            Linear linear = linear(readers[i]);
            Buffer dut = lora(w.du(), readers[i], rows);
            linear.backward(be, dys[i], x, dx, i > 0, lora(a.lora(), readers[i], rows), dut, rows);
            if (!together && linear.lora != null) linear.down().backward(be, dut, x, dx, rows, pass.dropout(index, readers[i]), w.scratch());
        }
        if (together) stacked.backward(be, block(w.du(), readers[0], stacked.rank(), rows), x, dx, rows, Linear.Dropout.OFF, w.scratch());
    }
}
