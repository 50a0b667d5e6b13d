package dev.pricer.core.model;

import dev.pricer.core.FormatException;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.quant.BnbNf4Format;
import dev.pricer.core.quant.Nf4Weight;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.safetensors.SafeTensorsFile;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/** The tensor names and shapes of a Hugging Face {@code LlamaForCausalLM} state dict. */
final class WeightNames {

    static final String EMBEDDING = "model.embed_tokens.weight";
    static final String FINAL_NORM = "model.norm.weight";
    static final String LM_HEAD = "lm_head.weight";

    private WeightNames() {
    }

    static String inputNorm(int layer) {
        return "model.layers." + layer + ".input_layernorm.weight";
    }

    static String postNorm(int layer) {
        return "model.layers." + layer + ".post_attention_layernorm.weight";
    }

    /** {@code [out, in]} of a projection. */
    static int[] projectionShape(LlamaConfig c, Projection p) {
        return switch (p) {
            case Q -> new int[]{c.qDim(), c.hiddenSize()};
            case K, V -> new int[]{c.kvDim(), c.hiddenSize()};
            case O -> new int[]{c.hiddenSize(), c.qDim()};
            case GATE, UP -> new int[]{c.intermediateSize(), c.hiddenSize()};
            case DOWN -> new int[]{c.hiddenSize(), c.intermediateSize()};
        };
    }

    /** Every weight the model reads, in state-dict order; {@code lm_head} only when not tied to the embedding. */
    static Map<String, long[]> expectedShapes(LlamaConfig c) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(EMBEDDING, new long[]{c.vocabSize(), c.hiddenSize()});
        for (int l = 0; l < c.numLayers(); l++) {
            shapes.put(inputNorm(l), new long[]{c.hiddenSize()});
            for (Projection p : Projection.values()) {
                int[] s = projectionShape(c, p);
                shapes.put(p.modulePath(l) + ".weight", new long[]{s[0], s[1]});
            }
            shapes.put(postNorm(l), new long[]{c.hiddenSize()});
        }
        shapes.put(FINAL_NORM, new long[]{c.hiddenSize()});
        if (!c.tieWordEmbeddings()) shapes.put(LM_HEAD, new long[]{c.vocabSize(), c.hiddenSize()});
        return shapes;
    }

    /** The decoder projections' weight names: what bitsandbytes quantizes (every nn.Linear of the decoder layers). */
    static Set<String> projectionWeights(LlamaConfig c) {
        Set<String> names = new LinkedHashSet<>();
        for (int l = 0; l < c.numLayers(); l++) for (Projection p : Projection.values()) names.add(p.modulePath(l) + ".weight");
        return names;
    }

    /**
     * A weight stored in bitsandbytes' NF4 layout, read (its quant state checked against its tensors) and checked
     * against the shape config.json implies. Only decoder projections may be quantized, as with bitsandbytes.
     */
    static Nf4Weight checkQuantized(SafeTensors files, String name, long[] shape, Set<String> projections) {
        if (!projections.contains(name)) {
            throw new FormatException(files.describe() + ": tensor '" + name + "' is quantized; only the decoder layers' projections"
                    + " may be (embeddings, norms and lm_head stay float, as with bitsandbytes)");
        }
        Nf4Weight w = BnbNf4Format.read(files, name);
        if (!Arrays.equals(w.shape(), shape)) {
            throw new FormatException(files.describe() + ": tensor '" + name + BnbNf4Format.QUANT_STATE + "': field 'shape' is "
                    + Arrays.toString(w.shape()) + ", config.json implies " + Arrays.toString(shape));
        }
        return w;
    }

    static void check(SafeTensors files, String name, long[] shape) {
        SafeTensorsFile.Entry e = files.entry(name);
        if (!Arrays.equals(e.shape(), shape)) {
            throw new FormatException(files.describe() + ": tensor '" + name + "' has shape " + Arrays.toString(e.shape())
                    + ", config.json implies " + Arrays.toString(shape));
        }
        switch (e.dtype()) {
            case F32, BF16, F16 -> { }
            default -> throw new FormatException(files.describe() + ": tensor '" + name + "' has dtype " + e.dtype() + "; weights must be F32, BF16 or F16");
        }
    }
}
