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

    final int index;
    final Buffer inputNorm;
    final Buffer postNorm;
    final Buffer inputNormGrad;
    final Buffer postNormGrad;
    final Linear[] linears;
    /** {@code [W_gate; W_up]}, whose halves are the gate and up weights, or null where they are apart (see {@link GateUp}). */
    final Buffer gateUp;
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
        project(be, Projection.O, a.att(), x, a.resid2(), a, pass, w);
        be.rmsNormForward(a.resid2(), postNorm, a.xn2(), a.rstd2(), rows, hidden, eps);
        project(be, Projection.GATE, a.xn2(), null, a.gate(), a, pass, w);
        project(be, Projection.UP, a.xn2(), null, a.up(), a, pass, w);
        be.swigluForward(a.gate(), a.up(), a.act());
        project(be, Projection.DOWN, a.act(), a.resid2(), out, a, pass, w);
    }

    /** y = p(x), plus {@code residual} unless it is null. */
    private void project(Backend be, Projection p, Buffer x, Buffer residual, Buffer y, LayerActivations a, Pass pass, Workspace w) {
        linear(p).forward(be, x, residual, y, a.lora()[p.ordinal()], pass.rows(), pass.dropout(index, p), w.scratch());
    }

    /**
     * Backward from {@code dOut} (the gradient of this layer's output, consumed: it becomes the gradient of the
     * mid-layer residual) to {@code dIn} (overwritten with the gradient of this layer's input).
     */
    void backward(Backend be, Buffer x, Buffer dOut, Buffer dIn, LayerActivations a, Pass pass, Rope rope, Workspace w) {
        int rows = pass.rows(), hidden = config.hiddenSize();
        projectBack(be, Projection.DOWN, dOut, a.act(), w.dact(), false, a, pass, w);
        int inter = config.intermediateSize();
        if (gateUp != null && linear(Projection.GATE).lora == null && linear(Projection.UP).lora == null) {
            // Neither trains: their input gradients are one product with K = 2·intermediate rather than two.
            be.swigluBackwardGateUp(w.dact(), a.gate(), a.up(), w.dgateUp(), rows, inter);
            be.matmulAB(w.dgateUp(), gateUp, w.dxn(), rows, hidden, 2 * inter, false);
        } else {
            long n = (long) rows * inter;
            Buffer dgate = w.dgateUp().slice(0, n), dup = w.dgateUp().slice(n, n);
            be.swigluBackward(w.dact(), a.gate(), a.up(), dgate, dup);
            projectBack(be, Projection.GATE, dgate, a.xn2(), w.dxn(), false, a, pass, w);
            projectBack(be, Projection.UP, dup, a.xn2(), w.dxn(), true, a, pass, w);
        }
        // dOut now also takes the post-attention norm's share: it becomes the gradient of the residual h.
        be.rmsNormBackward(w.dxn(), a.resid2(), postNorm, a.rstd2(), dOut, dOut, postNormGrad, rows, hidden);
        projectBack(be, Projection.O, dOut, a.att(), w.datt(), false, a, pass, w);
        be.attentionBackward(w.datt(), a.q(), a.k(), a.v(), a.att(), a.probs(), pass.validLengths(), w.dq(), w.dk(), w.dv(), pass.attention());
        // The rotation is orthogonal: its backward is the rotation by the opposite angle.
        be.rope(w.dq(), pass.positions(), rope.cos(), rope.sin(), rows, config.numHeads(), config.headDim(), true);
        be.rope(w.dk(), pass.positions(), rope.cos(), rope.sin(), rows, config.numKvHeads(), config.headDim(), true);
        projectBack(be, Projection.Q, w.dq(), a.xn1(), w.dxn(), false, a, pass, w);
        projectBack(be, Projection.K, w.dk(), a.xn1(), w.dxn(), true, a, pass, w);
        projectBack(be, Projection.V, w.dv(), a.xn1(), w.dxn(), true, a, pass, w);
        // The input's gradient: h's, which reaches x around the attention half, plus the input norm's share.
        be.rmsNormBackward(w.dxn(), x, inputNorm, a.rstd1(), dOut, dIn, inputNormGrad, rows, hidden);
    }

    private void projectBack(Backend be, Projection p, Buffer dy, Buffer x, Buffer dx, boolean accumulate,
                             LayerActivations a, Pass pass, Workspace w) {
        linear(p).backward(be, dy, x, dx, accumulate, a.lora()[p.ordinal()], pass.rows(), pass.dropout(index, p), w.du(), w.scratch());
    }
}
