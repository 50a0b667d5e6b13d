package dev.pricer.core.model;

import dev.pricer.core.FormatException;
import dev.pricer.core.backend.AttentionShape;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.Nf4Buffer;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.lora.BaseModelRef;
import dev.pricer.core.lora.LoraConfig;
import dev.pricer.core.lora.PeftAdapter;
import dev.pricer.core.quant.BnbNf4Format;
import dev.pricer.core.quant.Nf4Quantizer;
import dev.pricer.core.quant.Nf4Weight;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.safetensors.SafeTensorsWriter;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A Llama-family causal language model on a {@link Backend}, with an optional LoRA adapter: forward passes
 * (logits, loss), the backward pass into the trainable parameters' gradients, and greedy generation with a KV cache.
 * Numerics follow Hugging Face transformers (float32) and PEFT. The decoder projections may be held in NF4
 * ({@link Quantization}), and activation checkpointing ({@link #setGradientCheckpointing}) trades a second
 * forward pass per layer for keeping only each layer's input between the passes.
 *
 * <p>Not thread-safe: one pass at a time. Close it to release the memory-mapped weight files.
 */
public final class LlamaModel implements AutoCloseable {

    private final LlamaConfig config;
    private final Backend backend;
    private final SafeTensors files;
    private final Buffer embedding;
    private final Buffer finalNorm;
    private final Buffer lmHead;
    private final DecoderLayer[] layers;
    private final Rope rope;
    private final Map<String, Buffer> weights;
    private final Map<String, Nf4Buffer> quantized;
    private final List<Parameter> fullParameters;
    private final Buffer embeddingGrad;
    private final Buffer finalNormGrad;
    private final Buffer lmHeadGrad;
    private LoraConfig lora;
    private List<Parameter> loraParameters = List.of();
    private Plan trainingPlan;
    private Plan inferencePlan;
    private long dropoutSeed = 0x5EEDL;
    private long passes;
    private boolean gradientCheckpointing;

    /**
     * {@code quantized} holds the NF4 projections by weight name; {@code weights} every other weight;
     * {@code gateUps} each layer's stacked gate and up weights ({@link GateUp}), null where they are apart.
     */
    private LlamaModel(LlamaConfig config, Backend backend, SafeTensors files, Map<String, Buffer> weights,
                       Map<String, Nf4Buffer> quantized, Buffer[] gateUps, boolean fullTraining) {
        if (fullTraining && !quantized.isEmpty()) throw new IllegalArgumentException("full-parameter training needs float weights, not NF4");
        this.config = config;
        this.backend = backend;
        this.files = files;
        this.rope = new Rope(backend, config);
        this.weights = Map.copyOf(weights);
        this.quantized = Map.copyOf(quantized);
        Map<String, Buffer> grads = new LinkedHashMap<>();
        if (fullTraining) weights.forEach((name, w) -> grads.put(name, backend.allocate(DType.F32, w.length())));
        embedding = weights.get(WeightNames.EMBEDDING);
        finalNorm = weights.get(WeightNames.FINAL_NORM);
        lmHead = config.tieWordEmbeddings() ? embedding : weights.get(WeightNames.LM_HEAD);
        embeddingGrad = grads.get(WeightNames.EMBEDDING);
        finalNormGrad = grads.get(WeightNames.FINAL_NORM);
        lmHeadGrad = config.tieWordEmbeddings() ? embeddingGrad : grads.get(WeightNames.LM_HEAD);
        layers = new DecoderLayer[config.numLayers()];
        for (int l = 0; l < layers.length; l++) {
            Linear[] linears = new Linear[Projection.values().length];
            for (Projection p : Projection.values()) {
                String name = p.modulePath(l) + ".weight";
                int[] shape = WeightNames.projectionShape(config, p);
                BaseWeight w = quantized.containsKey(name) ? new BaseWeight.Nf4(quantized.get(name)) : new BaseWeight.Dense(weights.get(name));
                linears[p.ordinal()] = new Linear(p.modulePath(l), shape[1], shape[0], w, grads.get(name));
            }
            String in = WeightNames.inputNorm(l), post = WeightNames.postNorm(l);
            layers[l] = new DecoderLayer(l, config, weights.get(in), weights.get(post), grads.get(in), grads.get(post), linears, gateUps[l]);
        }
        List<Parameter> full = new ArrayList<>();
        Map<String, long[]> shapes = WeightNames.expectedShapes(config);
        grads.forEach((name, g) -> full.add(new Parameter(name, shapes.get(name), weights.get(name), g)));
        fullParameters = List.copyOf(full);
    }

    // ---- loading ----

    /** The base model of a Hugging Face folder ({@code config.json} + safetensors), weights frozen. */
    public static LlamaModel load(Path modelDir, Backend backend) {
        return load(modelDir, null, backend);
    }

    /** The base model plus, when {@code adapterDir} is not null, the PEFT LoRA adapter in it (trainable). */
    public static LlamaModel load(Path modelDir, Path adapterDir, Backend backend) {
        return load(modelDir, adapterDir, backend, Quantization.NONE);
    }

    /**
     * As {@link #load(Path, Path, Backend)}, with the decoder projections quantized to NF4 (double quantization)
     * as they load when {@code quantization} is NF4. A checkpoint that bitsandbytes already quantized (its
     * {@code weight.absmax}, {@code weight.quant_state.bitsandbytes__nf4}, ... keys, a {@code quantization_config}
     * in config.json) loads as NF4 whatever is asked.
     */
    public static LlamaModel load(Path modelDir, Path adapterDir, Backend backend, Quantization quantization) {
        LlamaModel model = open(modelDir, backend, false, quantization);
        if (adapterDir != null) {
            try {
                model.loadAdapter(adapterDir);
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
        }
        return model;
    }

    /** Every weight trainable, each with a gradient buffer (full-parameter training, for small models). */
    public static LlamaModel loadForFullTraining(Path modelDir, Backend backend) {
        return open(modelDir, backend, true, Quantization.NONE);
    }

    /**
     * A model with fresh random weights (normal, std {@code initStd}; norms 1): with {@code trainable}, every
     * weight gets a gradient (training a small model from scratch); without, the base is frozen (LoRA benchmarks).
     */
    public static LlamaModel initialize(LlamaConfig config, Backend backend, double initStd, long seed, boolean trainable) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, long[]> shapes = WeightNames.expectedShapes(config);
        Map<String, Buffer> weights = new LinkedHashMap<>();
        // GateUp asks for each tensor once, in state-dict order, so the values are drawn in that order.
        Buffer[] gateUps = GateUp.upload(backend, config.numLayers(), shapes.keySet(), name -> {
            long[] shape = shapes.get(name);
            float[] values = new float[Math.toIntExact(HostTensor.elementCount(shape))];
            boolean norm = shape.length == 1;
            for (int i = 0; i < values.length; i++) values[i] = norm ? 1f : (float) (gaussian(random) * initStd);
            return HostTensor.ofFloats(values, shape);
        }, !trainable, true, weights);
        return new LlamaModel(config, backend, null, weights, Map.of(), gateUps, trainable);
    }

    private static double gaussian(SplittableRandom random) {
        double u1 = 1.0 - random.nextDouble(), u2 = random.nextDouble();
        return Math.sqrt(-2 * StrictMath.log(u1)) * StrictMath.cos(2 * Math.PI * u2);
    }

    private static LlamaModel open(Path modelDir, Backend backend, boolean fullTraining, Quantization requested) {
        LlamaConfig config = LlamaConfig.read(modelDir);
        Quantization declared = Quantization.declared(modelDir);
        Quantization quantization = declared == Quantization.NF4 ? declared : requested;
        if (fullTraining && quantization == Quantization.NF4) {
            throw new IllegalArgumentException(modelDir + ": full-parameter training needs float weights, and this model is quantized to NF4"
                    + " (quantization_config in config.json); train a LoRA adapter on it instead (QLoRA)");
        }
        SafeTensors files = SafeTensors.open(modelDir);
        try {
            Map<String, long[]> shapes = WeightNames.expectedShapes(config);
            Set<String> projections = WeightNames.projectionWeights(config);
            // Check every tensor before uploading any, so a bad file leaves nothing half-loaded.
            Map<String, Nf4Weight> stored = new LinkedHashMap<>();
            shapes.forEach((name, shape) -> {
                if (BnbNf4Format.isQuantized(files, name)) stored.put(name, WeightNames.checkQuantized(files, name, shape, projections));
                else WeightNames.check(files, name, shape);
            });
            if (fullTraining && !stored.isEmpty()) {
                throw new FormatException(files.describe() + ": tensor '" + stored.keySet().iterator().next() + "' is quantized (bitsandbytes NF4);"
                        + " full-parameter training needs float weights");
            }
            Map<String, Buffer> weights = new LinkedHashMap<>();
            Map<String, Nf4Buffer> quantized = new LinkedHashMap<>();
            Set<String> floats = new LinkedHashSet<>();
            shapes.forEach((name, shape) -> {
                Nf4Weight q = stored.get(name);
                if (q == null && quantization == Quantization.NF4 && projections.contains(name)) q = Nf4Quantizer.quantize(files.tensor(name), true);
                if (q != null) quantized.put(name, backend.uploadNf4(q));
                else floats.add(name);
            });
            Buffer[] gateUps = GateUp.upload(backend, config.numLayers(), floats, files::tensor, !fullTraining, fullTraining, weights);
            return new LlamaModel(config, backend, files, weights, quantized, gateUps, fullTraining);
        } catch (RuntimeException e) {
            files.close();
            throw e;
        }
    }

    // ---- adapters ----

    /** Loads a PEFT adapter folder; its shapes are checked against this model before anything is attached. */
    public void loadAdapter(Path adapterDir) {
        PeftAdapter adapter = PeftAdapter.read(adapterDir);
        attachAdapter(adapter.config(), adapter.tensors(), adapter.weightsFile().toString(), true);
    }

    /** A fresh adapter as PEFT initialises one: A uniform in ±1/√in (Kaiming, a=√5), B zero, so it starts as a no-op. */
    public void createAdapter(LoraConfig config, long seed) {
        createAdapter(config, seed, true);
    }

    /**
     * {@link #createAdapter(LoraConfig, long)}, where {@code stackAttention} false keeps every LoRA down-projection
     * on its own, as a reference for the stacked q, k and v ({@link AdapterBinding#bind}).
     */
    void createAdapter(LoraConfig config, long seed, boolean stackAttention) {
        attachAdapter(config, AdapterBinding.initialTensors(config, layers, seed), "new adapter", stackAttention);
    }

    private void attachAdapter(LoraConfig config, Map<String, HostTensor> tensors, String source, boolean stackAttention) {
        // One kind of training at a time: an adapter on trainable weights would make two sets of gradients.
        if (!fullParameters.isEmpty()) throw new IllegalStateException("LoRA adapters go on a frozen base; this model trains every weight");
        AdapterBinding.check(config, layers, tensors, source);
        loraParameters = AdapterBinding.bind(config, layers, tensors, backend, stackAttention);
        lora = config;
        trainingPlan = null;
        inferencePlan = null;
    }

    /** Writes the adapter in PEFT's format ({@code adapter_config.json} + {@code adapter_model.safetensors}). */
    public void saveAdapter(Path adapterDir, BaseModelRef baseModel) {
        if (lora == null) throw new IllegalStateException("no adapter to save");
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        for (Parameter p : loraParameters) tensors.put(p.name(), download(p.value(), p.shape()));
        PeftAdapter.write(adapterDir, lora, tensors, baseModel);
    }

    /**
     * Writes the model in Hugging Face's layout ({@code config.json} + {@code model.safetensors}, F32), e.g. after
     * training from scratch; each file is replaced atomically.
     */
    public void saveModel(Path dir) {
        if (!quantized.isEmpty()) throw new IllegalStateException("an NF4 model is not saved as float weights; save its adapter instead");
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        WeightNames.expectedShapes(config).forEach((name, shape) -> tensors.put(name, download(weights.get(name), shape)));
        try {
            Files.createDirectories(dir);
            SafeTensorsWriter.write(dir.resolve(SafeTensors.SINGLE), tensors, Map.of("format", "pt"));
            Path tmp = Files.createTempFile(dir, ".config.json", ".tmp");
            Files.writeString(tmp, config.toJson().toPrettyString());
            Files.move(tmp, dir.resolve("config.json"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save model to " + dir, e);
        }
    }

    // ---- parameters ----

    public LlamaConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    /** NF4 when the decoder projections are held quantized, NONE when every weight is float. */
    public Quantization quantization() {
        return quantized.isEmpty() ? Quantization.NONE : Quantization.NF4;
    }

    /**
     * Activation checkpointing (Hugging Face's {@code gradient_checkpointing}): training keeps only each decoder
     * layer's input through the forward pass and recomputes the layer's activations right before its backward
     * pass. Same losses and gradients, a fraction of the activation memory, about one more forward pass of time.
     */
    public void setGradientCheckpointing(boolean on) {
        if (on != gradientCheckpointing) trainingPlan = null;
        gradientCheckpointing = on;
    }

    public boolean gradientCheckpointing() {
        return gradientCheckpointing;
    }

    /** The adapter's config, or null when none is attached. */
    public LoraConfig loraConfig() {
        return lora;
    }

    /** LoRA tensors under their PEFT keys when an adapter is attached, otherwise every weight in full training. */
    public List<Parameter> trainableParameters() {
        return lora != null ? loraParameters : fullParameters;
    }

    public void zeroGradients() {
        for (Parameter p : trainableParameters()) backend.fill(p.grad(), 0f);
    }

    /** Seeds LoRA dropout; each training pass after this draws fresh masks from it deterministically. */
    public void seedDropout(long seed) {
        dropoutSeed = seed;
        passes = 0;
    }

    public HostTensor download(Buffer buffer, long... shape) {
        return HostTensor.ofFloats(backend.toFloats(buffer), shape);
    }

    // ---- passes ----

    /** The buffers for this shape; training and inference plans are kept apart, so alternating them costs nothing. */
    private Plan plan(int batch, int seqLen, boolean backward) {
        Plan cached = backward ? trainingPlan : inferencePlan;
        boolean checkpointing = backward && gradientCheckpointing;
        if (cached != null && cached.fits(batch, seqLen, backward, checkpointing)) return cached;
        if (backward) trainingPlan = null;
        else inferencePlan = null;
        Plan fresh = new Plan(backend, config, batch, seqLen, backward, checkpointing, loraRanks());
        if (backward) trainingPlan = fresh;
        else inferencePlan = fresh;
        return fresh;
    }

    private Pass prepare(Plan plan, Batch batch, boolean training) {
        rope.ensure(batch.seqLen());
        int[] positions = new int[plan.rows];
        for (int i = 0; i < plan.rows; i++) positions[i] = i % batch.seqLen();
        for (int id : batch.inputIds()) {
            if (id < 0 || id >= config.vocabSize()) throw new IllegalArgumentException("token id " + id + " outside vocabulary of " + config.vocabSize());
        }
        backend.copyFromHost(MemorySegment.ofArray(batch.inputIds()), plan.ids);
        backend.copyFromHost(MemorySegment.ofArray(positions), plan.positions);
        backend.copyFromHost(MemorySegment.ofArray(batch.validLengths()), plan.lengths);
        AttentionShape shape = new AttentionShape(batch.batchSize(), batch.seqLen(), batch.seqLen(), 0,
                config.numHeads(), config.numKvHeads(), config.headDim());
        long seed = training ? dropoutSeed + 0x632BE59BD9B4E019L * ++passes : 0;
        return new Pass(plan.rows, shape, plan.positions, plan.lengths, training, seed);
    }

    /** Embeddings, every layer, final norm: leaves the normed hidden states in {@code plan.finalNormed}. */
    private void forward(Plan plan, Pass pass) {
        int hidden = config.hiddenSize();
        backend.gatherRows(embedding, plan.ids, plan.resid[0], plan.rows, hidden);
        for (int l = 0; l < layers.length; l++) {
            LayerActivations a = plan.acts[l];
            layers[l].forward(backend, plan.resid[l], plan.resid[l + 1], a, a.k(), a.v(), null, pass, rope, plan.workspace);
        }
        backend.rmsNormForward(plan.resid[layers.length], finalNorm, plan.finalNormed, plan.finalRstd, plan.rows, hidden, (float) config.rmsNormEps());
    }

    /** Label positions after the causal shift: row b·T+t predicts labels[b][t+1]. */
    private record Selection(int[] rows, int[] targets) {
        static Selection of(Batch batch, int vocab) {
            int n = Math.toIntExact(batch.labelTokens());
            int[] rows = new int[n], targets = new int[n];
            int i = 0;
            for (int b = 0; b < batch.batchSize(); b++) {
                for (int t = 0; t + 1 < batch.seqLen(); t++) {
                    int label = batch.labels()[b * batch.seqLen() + t + 1];
                    if (label == Batch.IGNORE) continue;
                    if (label < 0 || label >= vocab) {
                        throw new IllegalArgumentException("label " + label + " at [" + b + "][" + (t + 1) + "] is neither -100 nor a token id below " + vocab);
                    }
                    rows[i] = b * batch.seqLen() + t;
                    targets[i++] = label;
                }
            }
            return new Selection(rows, targets);
        }
    }

    private Buffer ints(int[] values) {
        Buffer b = backend.allocate(DType.I32, values.length);
        backend.copyFromHost(MemorySegment.ofArray(values), b);
        return b;
    }

    /**
     * One micro-batch forward and backward: returns the summed cross-entropy over its label tokens and their count,
     * and adds {@code gradScale · d(sum)/dθ} to every trainable parameter's gradient (call {@link #zeroGradients}
     * at the start of an optimizer step). Pass {@code 1 / (label tokens in the whole step)} to get HF Trainer's
     * normalisation under gradient accumulation. Logits are computed at label positions only.
     */
    public LossSum forwardBackward(Batch batch, float gradScale) {
        if (!(gradScale > 0f) || Float.isInfinite(gradScale)) throw new IllegalArgumentException("gradScale must be positive and finite, got " + gradScale);
        if (batch.labels() == null) throw new IllegalArgumentException("training needs labels");
        if (trainableParameters().isEmpty()) throw new IllegalStateException("nothing to train: attach an adapter or load for full training");
        Selection sel = Selection.of(batch, config.vocabSize());
        int n = sel.rows().length, hidden = config.hiddenSize(), vocab = config.vocabSize();
        if (n == 0) return LossSum.ZERO;
        Plan p = plan(batch.batchSize(), batch.seqLen(), true);
        Pass pass = prepare(p, batch, true);
        forward(p, pass);
        Buffer rows = ints(sel.rows()), targets = ints(sel.targets());
        Buffer heads = p.head(2 * n);
        Buffer h = heads.slice(0, (long) n * hidden), dh = heads.slice((long) n * hidden, (long) n * hidden);
        Buffer logits = p.logits(n);
        backend.gatherRows(p.finalNormed, rows, h, n, hidden);
        backend.matmulABt(h, lmHead, logits, n, vocab, hidden, false);
        double loss = backend.crossEntropy(logits, targets, n, vocab, gradScale);
        // logits now hold d(gradScale·loss)/d(logits)
        backend.matmulAB(logits, lmHead, dh, n, hidden, vocab, false);
        if (lmHeadGrad != null) backend.matmulAtB(logits, h, lmHeadGrad, vocab, hidden, n, true);
        backend.fill(p.gradFinal, 0f);
        backend.scatterAddRows(dh, rows, p.gradFinal, n, hidden);
        backend.rmsNormBackward(p.gradFinal, p.resid[layers.length], finalNorm, p.finalRstd, null, p.gradIn, finalNormGrad, p.rows, hidden);
        Buffer dOut = p.gradIn, dIn = p.gradOut;
        for (int l = layers.length - 1; l >= 0; l--) {
            // Checkpointing: every layer shares one set of activations, so rebuild this layer's (its output, already
            // consumed by the layer above, is rewritten with the same values).
            if (p.checkpointing) layers[l].forward(backend, p.resid[l], p.resid[l + 1], p.acts[l], p.acts[l].k(), p.acts[l].v(), null, pass, rope, p.workspace);
            layers[l].backward(backend, p.resid[l], dOut, dIn, p.acts[l], pass, rope, p.workspace);
            Buffer t = dOut;
            dOut = dIn;
            dIn = t;
        }
        if (embeddingGrad != null) backend.scatterAddRows(dOut, p.ids, embeddingGrad, p.rows, hidden);
        return new LossSum(loss, n);
    }

    /** The summed loss over the batch's label tokens, without dropout or gradients (evaluation). */
    public LossSum loss(Batch batch) {
        if (batch.labels() == null) throw new IllegalArgumentException("loss needs labels");
        Selection sel = Selection.of(batch, config.vocabSize());
        int n = sel.rows().length;
        if (n == 0) return LossSum.ZERO;
        Plan p = plan(batch.batchSize(), batch.seqLen(), false);
        forward(p, prepare(p, batch, false));
        Buffer h = p.head(n), logits = p.logits(n);
        backend.gatherRows(p.finalNormed, ints(sel.rows()), h, n, config.hiddenSize());
        backend.matmulABt(h, lmHead, logits, n, config.vocabSize(), config.hiddenSize(), false);
        return new LossSum(backend.crossEntropy(logits, ints(sel.targets()), n, config.vocabSize(), 0f), n);
    }

    /** Logits at every position, {@code [batch, seqLen, vocab]}: for inspection and comparison, not for training. */
    public HostTensor logits(Batch batch) {
        Plan p = plan(batch.batchSize(), batch.seqLen(), false);
        forward(p, prepare(p, batch, false));
        Buffer logits = p.logits(p.rows);
        backend.matmulABt(p.finalNormed, lmHead, logits, p.rows, config.vocabSize(), config.hiddenSize(), false);
        return download(logits, batch.batchSize(), batch.seqLen(), config.vocabSize());
    }

    /**
     * The next-token distribution after each prompt (softmax of the logits at its last token), prompts of any
     * lengths batched with right padding. Logits are computed at those positions only.
     */
    public float[][] nextTokenProbabilities(int[][] prompts) {
        Batch batch = Batch.rightPadded(prompts, null);
        Plan p = plan(batch.batchSize(), batch.seqLen(), false);
        forward(p, prepare(p, batch, false));
        int[] last = new int[prompts.length];
        for (int b = 0; b < prompts.length; b++) last[b] = b * batch.seqLen() + prompts[b].length - 1;
        float[] logits = lastLogits(p.finalNormed, ints(last), prompts.length, p);
        int vocab = config.vocabSize();
        float[][] out = new float[prompts.length][];
        for (int b = 0; b < prompts.length; b++) out[b] = softmax(Arrays.copyOfRange(logits, b * vocab, (b + 1) * vocab));
        return out;
    }

    private float[] lastLogits(Buffer normed, Buffer rows, int n, Plan p) {
        Buffer h = p.head(n), logits = p.logits(n);
        backend.gatherRows(normed, rows, h, n, config.hiddenSize());
        backend.matmulABt(h, lmHead, logits, n, config.vocabSize(), config.hiddenSize(), false);
        MemorySegment host = Arena.ofAuto().allocate((long) n * config.vocabSize() * Float.BYTES, 8);
        backend.copyToHost(logits, host);
        return host.toArray(ValueLayout.JAVA_FLOAT);
    }

    private static float[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double sum = 0;
        for (float v : logits) sum += StrictMath.exp(v - max);
        float[] out = new float[logits.length];
        for (int i = 0; i < logits.length; i++) out[i] = (float) (StrictMath.exp(logits[i] - max) / sum);
        return out;
    }

    /**
     * Greedy decoding with a KV cache: the prompt followed by up to {@code maxNewTokens} tokens, stopping after
     * an end-of-sequence token of the config (as HF's {@code generate} does with {@code do_sample=False}).
     */
    public int[] generateGreedy(int[] prompt, int maxNewTokens) {
        return generateGreedy(new int[][]{prompt}, maxNewTokens)[0];
    }

    /** {@link #generateGreedy(int[], int)} for many prompts of any lengths, decoded together one token per pass. */
    public int[][] generateGreedy(int[][] prompts, int maxNewTokens) {
        return new Generation(this, prompts, maxNewTokens).run();
    }

    // package access for Generation
    DecoderLayer[] layers() {
        return layers;
    }

    Rope rope() {
        return rope;
    }

    Buffer embedding() {
        return embedding;
    }

    Buffer finalNorm() {
        return finalNorm;
    }

    Buffer lmHead() {
        return lmHead;
    }

    int[] loraRanks() {
        int[] ranks = new int[Projection.values().length];
        for (Projection p : Projection.values()) if (lora != null && lora.targets(p.shortName())) ranks[p.ordinal()] = lora.r();
        return ranks;
    }

    @Override
    public void close() {
        trainingPlan = null;
        inferencePlan = null;
        if (files != null) files.close();
    }
}
