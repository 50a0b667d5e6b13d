package dev.pricer.core.model;

import dev.pricer.core.backend.AttentionShape;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.tensor.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Greedy decoding of one sequence with a KV cache: the prompt runs through the layers once (prefill), then each
 * new token alone, its keys and values appended to the cache. Only the last position ever gets logits.
 */
final class Generation {

    private final LlamaModel model;
    private final Backend be;
    private final LlamaConfig config;
    private final int capacity;
    private final Buffer[] keys;
    private final Buffer[] values;

    Generation(LlamaModel model, int capacity) {
        this.model = model;
        this.be = model.be();
        this.config = model.config();
        this.capacity = capacity;
        int layers = config.numLayers();
        keys = new Buffer[layers];
        values = new Buffer[layers];
        for (int l = 0; l < layers; l++) {
            keys[l] = be.allocate(DType.F32, (long) capacity * config.kvDim());
            values[l] = be.allocate(DType.F32, (long) capacity * config.kvDim());
        }
    }

    int[] run(int[] prompt, int maxNewTokens) {
        if (prompt.length == 0) throw new IllegalArgumentException("empty prompt");
        model.rope().ensure(capacity);
        int[] out = Arrays.copyOf(prompt, prompt.length + maxNewTokens);
        int length = prompt.length;
        int next = step(prompt, 0);
        for (int produced = 0; produced < maxNewTokens; produced++) {
            out[length++] = next;
            if (config.eosTokenIds().contains(next) || produced + 1 == maxNewTokens) break;
            next = step(new int[]{next}, length - 1);
        }
        return Arrays.copyOf(out, length);
    }

    /** Runs {@code tokens} at positions {@code past..past+n-1} and returns the greedy choice after the last. */
    private int step(int[] tokens, int past) {
        int n = tokens.length, hidden = config.hiddenSize(), kv = config.kvDim();
        Buffer ids = ints(tokens);
        int[] pos = new int[n];
        for (int i = 0; i < n; i++) pos[i] = past + i;
        Buffer positions = ints(pos), lengths = ints(new int[]{past + n});
        AttentionShape shape = new AttentionShape(1, n, capacity, past, config.numHeads(), config.numKvHeads(), config.headDim());
        Pass pass = new Pass(n, shape, positions, lengths, false, 0);
        Workspace w = Workspace.allocate(be, config, n, 0, false);
        Buffer x = be.allocate(DType.F32, (long) n * hidden), y = be.allocate(DType.F32, (long) n * hidden);
        be.gatherRows(model.embedding(), ids, x, n, hidden);
        LayerActivations shared = LayerActivations.allocate(be, config, n, null, null, 0, model.loraRanks());
        DecoderLayer[] layers = model.layers();
        for (int l = 0; l < layers.length; l++) {
            Buffer k = keys[l].slice((long) past * kv, (long) n * kv), v = values[l].slice((long) past * kv, (long) n * kv);
            LayerActivations a = new LayerActivations(shared.xn1(), shared.rstd1(), shared.q(), k, v, null, shared.att(),
                    shared.resid2(), shared.xn2(), shared.rstd2(), shared.gate(), shared.up(), shared.act(), shared.lora());
            layers[l].forward(be, x, y, a, keys[l], values[l], pass, model.rope(), w);
            Buffer t = x;
            x = y;
            y = t;
        }
        Buffer last = x.slice((long) (n - 1) * hidden, hidden), normed = be.allocate(DType.F32, hidden);
        be.rmsNormForward(last, model.finalNorm(), normed, be.allocate(DType.F32, 1), 1, hidden, (float) config.rmsNormEps());
        Buffer logits = be.allocate(DType.F32, config.vocabSize());
        be.matmulABt(normed, model.lmHead(), logits, 1, config.vocabSize(), hidden, false);
        MemorySegment host = Arena.ofAuto().allocate((long) config.vocabSize() * Float.BYTES, 8);
        be.copyToHost(logits, host);
        float[] values = host.toArray(ValueLayout.JAVA_FLOAT);
        int best = 0;
        for (int i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    private Buffer ints(int[] values) {
        Buffer b = be.allocate(DType.I32, values.length);
        be.copyFromHost(MemorySegment.ofArray(values), b);
        return b;
    }
}
