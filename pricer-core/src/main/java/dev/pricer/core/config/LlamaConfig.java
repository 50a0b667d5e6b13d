package dev.pricer.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pricer.core.FormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a Hugging Face {@code config.json} that a Llama 3, 3.1 or 3.2 model needs. Anything the engine
 * does not implement (another architecture, biases, sliding windows, other RoPE types) is refused with the
 * field and value named, rather than silently computing something else.
 */
public record LlamaConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        int bosTokenId,
        List<Integer> eosTokenIds) {

    public LlamaConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + numHeads + " is not a multiple of num_key_value_heads " + numKvHeads);
        }
        if (headDim % 2 != 0) throw new IllegalArgumentException("head_dim " + headDim + " must be even for RoPE");
    }

    public int qDim() {
        return numHeads * headDim;
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    /** This config as Hugging Face writes it ({@code rope_scaling} in the classic Llama 3.1 form), for saving a model. */
    public ObjectNode toJson() {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.putArray("architectures").add("LlamaForCausalLM");
        n.put("model_type", "llama");
        n.put("vocab_size", vocabSize);
        n.put("hidden_size", hiddenSize);
        n.put("intermediate_size", intermediateSize);
        n.put("num_hidden_layers", numLayers);
        n.put("num_attention_heads", numHeads);
        n.put("num_key_value_heads", numKvHeads);
        n.put("head_dim", headDim);
        n.put("hidden_act", "silu");
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("rms_norm_eps", rmsNormEps);
        n.put("rope_theta", ropeTheta);
        switch (ropeScaling) {
            case RopeScaling.None none -> n.putNull("rope_scaling");
            case RopeScaling.Linear linear -> n.putObject("rope_scaling").put("rope_type", "linear").put("factor", linear.factor());
            case RopeScaling.Llama3 l3 -> n.putObject("rope_scaling").put("rope_type", "llama3").put("factor", l3.factor())
                    .put("low_freq_factor", l3.lowFreqFactor()).put("high_freq_factor", l3.highFreqFactor())
                    .put("original_max_position_embeddings", l3.originalMaxPositions());
        }
        n.put("attention_bias", false);
        n.put("mlp_bias", false);
        n.put("tie_word_embeddings", tieWordEmbeddings);
        n.put("bos_token_id", bosTokenId);
        if (eosTokenIds.size() == 1) n.put("eos_token_id", eosTokenIds.getFirst());
        else eosTokenIds.forEach(n.putArray("eos_token_id")::add);
        n.put("torch_dtype", "float32");
        return n;
    }

    public static LlamaConfig read(Path modelDir) {
        Path file = Files.isDirectory(modelDir) ? modelDir.resolve("config.json") : modelDir;
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read config: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new FormatException(file + ": not a JSON object");
        return parse(file, root);
    }

    static LlamaConfig parse(Path file, JsonNode root) {
        Fields f = new Fields(file, root);
        String modelType = f.requiredText("model_type");
        if (!modelType.equals("llama")) f.unsupported("model_type", modelType);
        f.refuseTrue("attention_bias");
        f.refuseTrue("mlp_bias");
        String act = root.path("hidden_act").asText("silu");
        if (!act.equals("silu")) f.unsupported("hidden_act", act);
        if (root.hasNonNull("sliding_window")) f.unsupported("sliding_window", root.get("sliding_window").toString());
        int hidden = f.requiredInt("hidden_size");
        int heads = f.requiredInt("num_attention_heads");
        int kvHeads = f.optionalInt("num_key_value_heads", heads);
        int headDim = f.optionalInt("head_dim", hidden / heads);
        // transformers 5 writes rope_parameters (with rope_theta inside); earlier versions rope_scaling + rope_theta.
        JsonNode ropeParams = root.path("rope_parameters");
        double theta = ropeParams.hasNonNull("rope_theta") ? ropeParams.get("rope_theta").asDouble() : f.optionalDouble("rope_theta", 10000.0);
        JsonNode scalingNode = ropeParams.isObject() ? ropeParams : root.path("rope_scaling");
        String scalingField = ropeParams.isObject() ? "rope_parameters" : "rope_scaling";
        List<Integer> eos = new ArrayList<>();
        JsonNode eosNode = root.path("eos_token_id");
        if (eosNode.isArray()) eosNode.forEach(n -> eos.add(n.asInt()));
        else if (eosNode.canConvertToInt()) eos.add(eosNode.asInt());
        try {
            return new LlamaConfig(
                    f.requiredInt("vocab_size"), hidden, f.requiredInt("intermediate_size"), f.requiredInt("num_hidden_layers"),
                    heads, kvHeads, headDim, f.requiredDouble("rms_norm_eps"), theta,
                    ropeScaling(f, scalingField, scalingNode),
                    f.optionalInt("max_position_embeddings", 2048),
                    root.path("tie_word_embeddings").asBoolean(false),
                    root.path("bos_token_id").asInt(-1), eos);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file + ": " + e.getMessage(), e);
        }
    }

    private static RopeScaling ropeScaling(Fields f, String field, JsonNode node) {
        if (node.isMissingNode() || node.isNull()) return new RopeScaling.None();
        String type = node.hasNonNull("rope_type") ? node.get("rope_type").asText() : node.path("type").asText("default");
        return switch (type) {
            case "default" -> new RopeScaling.None();
            case "linear" -> new RopeScaling.Linear(f.nestedDouble(field, node, "factor"));
            case "llama3" -> new RopeScaling.Llama3(f.nestedDouble(field, node, "factor"),
                    f.nestedDouble(field, node, "low_freq_factor"), f.nestedDouble(field, node, "high_freq_factor"),
                    (int) f.nestedDouble(field, node, "original_max_position_embeddings"));
            default -> throw f.unsupported(field + ".rope_type", type);
        };
    }

    /** Reads fields with errors that name the file and the field. */
    private record Fields(Path file, JsonNode root) {
        JsonNode required(String name) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) throw new FormatException(file + ": missing required field '" + name + "'");
            return n;
        }

        String requiredText(String name) {
            return required(name).asText();
        }

        int requiredInt(String name) {
            JsonNode n = required(name);
            if (!n.canConvertToInt() || n.asInt() <= 0) throw new FormatException(file + ": field '" + name + "' must be a positive integer, got " + n);
            return n.asInt();
        }

        double requiredDouble(String name) {
            JsonNode n = required(name);
            if (!n.isNumber()) throw new FormatException(file + ": field '" + name + "' must be a number, got " + n);
            return n.asDouble();
        }

        int optionalInt(String name, int fallback) {
            return root.hasNonNull(name) ? requiredInt(name) : fallback;
        }

        double optionalDouble(String name, double fallback) {
            return root.hasNonNull(name) ? requiredDouble(name) : fallback;
        }

        double nestedDouble(String parent, JsonNode node, String name) {
            JsonNode n = node.get(name);
            if (n == null || !n.isNumber()) throw new FormatException(file + ": missing required field '" + parent + "." + name + "'");
            return n.asDouble();
        }

        void refuseTrue(String name) {
            if (root.path(name).asBoolean(false)) unsupported(name, "true");
        }

        FormatException unsupported(String name, String value) {
            throw new FormatException(file + ": unsupported value '" + value + "' for field '" + name + "' (Pricer runs Llama 3.x models)");
        }
    }
}
