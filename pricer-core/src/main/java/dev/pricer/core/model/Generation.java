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
 * Greedy decoding of a batch of prompts with a KV cache. Each sequence owns {@code capacity} rows of every layer's
 * cache. Prompts are prefilled one by one (their lengths differ); then each pass decodes one token for every
 * unfinished sequence, writing its key and value into the sequence's next cache slot. Only the last position of
 * each sequence ever gets logits.
 */
final class Generation {

    private final LlamaModel model;
    private final Backend be;
    private final LlamaConfig config;
    private final int[][] prompts;
    private final int maxNewTokens;
    private final int capacity;
    private final Buffer[] keys;
    private final Buffer[] values;

    Generation(LlamaModel model, int[][] prompts, int maxNewTokens) {
        if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens must be at least 1, got " + maxNewTokens);
        for (int[] p : prompts) if (p.length == 0) throw new IllegalArgumentException("empty prompt");
        this.model = model;
        this.be = model.backend();
        this.config = model.config();
        this.prompts = prompts;
        this.maxNewTokens = maxNewTokens;
        this.capacity = Arrays.stream(prompts).mapToInt(p -> p.length).max().orElseThrow() + maxNewTokens;
        int layers = config.numLayers();
        keys = new Buffer[layers];
        values = new Buffer[layers];
        for (int l = 0; l < layers; l++) {
            keys[l] = be.allocate(DType.F32, (long) prompts.length * capacity * config.kvDim());
            values[l] = be.allocate(DType.F32, (long) prompts.length * capacity * config.kvDim());
        }
    }

    int[][] run() {
        model.rope().ensure(capacity);
        int n = prompts.length;
        int[][] out = new int[n][];
        int[] lengths = new int[n], cached = new int[n], next = new int[n];
        boolean[] done = new boolean[n];
        for (int b = 0; b < n; b++) {
            out[b] = Arrays.copyOf(prompts[b], prompts[b].length + maxNewTokens);
            lengths[b] = cached[b] = prompts[b].length;
            next[b] = prefill(b);
        }
        for (int produced = 0; ; produced++) {
            boolean anyActive = false;
            for (int b = 0; b < n; b++) {
                if (done[b]) continue;
                out[b][lengths[b]++] = next[b];
                done[b] = config.eosTokenIds().contains(next[b]) || produced + 1 == maxNewTokens;
                anyActive |= !done[b];
            }
            if (!anyActive) break;
            next = decode(next, cached);
        }
        for (int b = 0; b < n; b++) out[b] = Arrays.copyOf(out[b], lengths[b]);
        return out;
    }

    /** Runs prompt b through the layers into its cache rows; returns its first greedy token. */
    private int prefill(int b) {
        int[] prompt = prompts[b];
        int rows = prompt.length, kv = config.kvDim();
        int[] positions = new int[rows];
        for (int i = 0; i < rows; i++) positions[i] = i;
        AttentionShape shape = new AttentionShape(1, rows, capacity, 0, config.numHeads(), config.numKvHeads(), config.headDim());
        long cacheRow = (long) b * capacity * kv;
        return layers(prompt, positions, new int[]{rows}, shape, null,
                l -> keys[l].slice(cacheRow, (long) capacity * kv), l -> values[l].slice(cacheRow, (long) capacity * kv))[0];
    }

    /**
     * One token for every sequence at its next cache slot. Finished sequences keep decoding (as HF's batched
     * generate does) into slots nobody reads, which keeps every pass the same shape.
     */
    private int[] decode(int[] tokens, int[] cached) {
        int rows = tokens.length;
        int[] positions = new int[rows], valid = new int[rows], slots = new int[rows];
        for (int b = 0; b < rows; b++) {
            positions[b] = cached[b];
            valid[b] = cached[b] + 1;
            slots[b] = b * capacity + cached[b]++;
        }
        // Every query may look as far as the cache reaches; validLengths stops each at its own sequence's end.
        AttentionShape shape = new AttentionShape(rows, 1, capacity, capacity - 1, config.numHeads(), config.numKvHeads(), config.headDim());
        return layers(tokens, positions, valid, shape, ints(slots), l -> keys[l], l -> values[l]);
    }

    private interface PerLayer {
        Buffer of(int layer);
    }

    private int[] layers(int[] tokens, int[] positions, int[] validLengths, AttentionShape shape, Buffer slots, PerLayer keysOf, PerLayer valuesOf) {
        int rows = tokens.length, hidden = config.hiddenSize(), kv = config.kvDim();
        Pass pass = new Pass(rows, shape, ints(positions), ints(validLengths), false, 0);
        Workspace w = Workspace.allocate(be, config, rows, 0, false);
        Buffer x = be.allocate(DType.F32, (long) rows * hidden), y = be.allocate(DType.F32, (long) rows * hidden);
        be.gatherRows(model.embedding(), ints(tokens), x, rows, hidden);
        LayerActivations shared = LayerActivations.allocate(be, config, rows, null, null, 0, model.loraRanks(), false);
        DecoderLayer[] layers = model.layers();
        for (int l = 0; l < layers.length; l++) {
            Buffer kAll = keysOf.of(l), vAll = valuesOf.of(l);
            // Prefill writes its keys straight into the cache; decode writes them to scratch, then into their slots.
            Buffer k = slots == null ? kAll.slice(0, (long) rows * kv) : shared.k(), v = slots == null ? vAll.slice(0, (long) rows * kv) : shared.v();
            LayerActivations a = new LayerActivations(shared.xn1(), shared.rstd1(), shared.q(), k, v, null, shared.att(),
                    shared.resid2(), shared.xn2(), shared.rstd2(), shared.gate(), shared.up(), shared.act(), shared.lora());
            layers[l].forward(be, x, y, a, kAll, vAll, slots, pass, model.rope(), w);
            Buffer t = x;
            x = y;
            y = t;
        }
        int[] last = new int[shape.batch()];
        for (int b = 0; b < last.length; b++) last[b] = b * shape.queryLen() + shape.queryLen() - 1;
        return argmaxAfter(x, last);
    }

    /** Final norm and lm_head at the given rows only, then the most likely token of each. */
    private int[] argmaxAfter(Buffer hiddenStates, int[] rows) {
        int n = rows.length, hidden = config.hiddenSize(), vocab = config.vocabSize();
        Buffer picked = be.allocate(DType.F32, (long) n * hidden), normed = be.allocate(DType.F32, (long) n * hidden);
        be.gatherRows(hiddenStates, ints(rows), picked, n, hidden);
        be.rmsNormForward(picked, model.finalNorm(), normed, be.allocate(DType.F32, n), n, hidden, (float) config.rmsNormEps());
        Buffer logits = be.allocate(DType.F32, (long) n * vocab);
        be.matmulABt(normed, model.lmHead(), logits, n, vocab, hidden, false);
        MemorySegment host = Arena.ofAuto().allocate((long) n * vocab * Float.BYTES, 8);
        be.copyToHost(logits, host);
        float[] values = host.toArray(ValueLayout.JAVA_FLOAT);
        int[] best = new int[n];
        for (int r = 0; r < n; r++) {
            int base = r * vocab;
            for (int i = 1; i < vocab; i++) if (values[base + i] > values[base + best[r]]) best[r] = i;
        }
        return best;
    }

    private Buffer ints(int[] values) {
        Buffer b = be.allocate(DType.I32, values.length);
        be.copyFromHost(MemorySegment.ofArray(values), b);
        return b;
    }
}
