package dev.pricer.core.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pricer.core.FormatException;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.safetensors.SafeTensorsWriter;
import dev.pricer.core.tensor.HostTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * PEFT's on-disk LoRA format: {@code adapter_config.json} and {@code adapter_model.safetensors} with keys
 * {@code base_model.model.<module>.lora_A.weight} ({@code [r, in]}) and {@code .lora_B.weight} ({@code [out, r]}).
 * Options this engine does not implement (DoRA, biases, per-module ranks, ...) are refused by name.
 */
public record PeftAdapter(LoraConfig config, Map<String, HostTensor> tensors, Path weightsFile) {

    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";

    public static String key(String modulePath, String matrix) {
        return "base_model.model." + modulePath + "." + matrix + ".weight";
    }

    public static PeftAdapter read(Path dir) {
        Path configFile = dir.resolve(CONFIG_FILE), weights = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(weights)) throw new FormatException(weights + ": adapter weights not found");
        LoraConfig config = readConfig(configFile);
        return new PeftAdapter(config, SafeTensors.readAll(weights), weights);
    }

    /**
     * The base model the adapter in {@code dir} names, as PEFT reads it: {@code base_model_name_or_path}, at its
     * {@code revision} (the base's commit) when one is pinned.
     */
    public static BaseModelRef readBase(Path dir) {
        Path file = dir.resolve(CONFIG_FILE);
        JsonNode root = readJson(file), name = root.get("base_model_name_or_path"), revision = root.get("revision");
        if (name == null || !name.isTextual() || name.asText().isBlank()) {
            throw new FormatException(file + " names no base_model_name_or_path: give the base model explicitly");
        }
        boolean pinned = revision != null && revision.isTextual() && !revision.asText().isBlank();
        return new BaseModelRef(name.asText(), pinned ? revision.asText() : null);
    }

    private static JsonNode readJson(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read adapter config: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new FormatException(file + ": not a JSON object");
        return root;
    }

    static LoraConfig readConfig(Path file) {
        JsonNode root = readJson(file);
        String type = root.path("peft_type").asText("LORA");
        if (!type.equals("LORA")) throw unsupported(file, "peft_type", type);
        if (root.path("use_dora").asBoolean(false)) throw unsupported(file, "use_dora", "true");
        if (!root.path("bias").asText("none").equals("none")) throw unsupported(file, "bias", root.path("bias").asText());
        if (root.path("fan_in_fan_out").asBoolean(false)) throw unsupported(file, "fan_in_fan_out", "true");
        for (String field : List.of("rank_pattern", "alpha_pattern")) {
            JsonNode n = root.path(field);
            if (n.isObject() && !n.isEmpty()) throw unsupported(file, field, n.toString());
        }
        for (String field : List.of("layers_to_transform", "modules_to_save", "layer_replication")) {
            if (root.hasNonNull(field)) throw unsupported(file, field, root.get(field).toString());
        }
        JsonNode r = root.get("r"), alpha = root.get("lora_alpha"), targets = root.get("target_modules");
        if (r == null || !r.canConvertToInt()) throw new FormatException(file + ": missing required field 'r'");
        if (alpha == null || !alpha.isNumber()) throw new FormatException(file + ": missing required field 'lora_alpha'");
        if (targets == null || targets.isNull()) throw new FormatException(file + ": missing required field 'target_modules'");
        List<String> modules = new ArrayList<>();
        if (targets.isArray()) {
            targets.forEach(t -> modules.add(t.asText()));
            modules.sort(Comparator.comparingInt(LoraConfig.ALL_PROJECTIONS::indexOf));
        } else if (targets.asText().equals("all-linear")) {
            modules.addAll(LoraConfig.ALL_PROJECTIONS);
        } else {
            throw unsupported(file, "target_modules", targets.asText());
        }
        try {
            return new LoraConfig(r.asInt(), alpha.asDouble(), root.path("lora_dropout").asDouble(0.0), modules,
                    root.path("use_rslora").asBoolean(false));
        } catch (IllegalArgumentException e) {
            throw new FormatException(file + ": " + e.getMessage(), e);
        }
    }

    private static FormatException unsupported(Path file, String field, String value) {
        return new FormatException(file + ": unsupported value '" + value + "' for field '" + field + "'");
    }

    /**
     * Writes both files into {@code dir} (created if needed). Each file is replaced atomically; the weights go
     * first, so a reader never sees a new config beside old weights.
     */
    public static void write(Path dir, LoraConfig config, Map<String, HostTensor> tensors, BaseModelRef baseModel) {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode c = json.createObjectNode();
        c.put("peft_type", "LORA");
        c.put("task_type", "CAUSAL_LM");
        c.put("base_model_name_or_path", baseModel.nameOrPath());
        c.put("r", config.r());
        c.put("lora_alpha", config.alpha());
        c.put("lora_dropout", config.dropout());
        config.targetModules().forEach(c.putArray("target_modules")::add);
        c.put("use_rslora", config.useRslora());
        c.put("bias", "none");
        c.put("fan_in_fan_out", false);
        c.put("use_dora", false);
        c.put("init_lora_weights", true);
        c.put("inference_mode", true);
        c.putNull("modules_to_save");
        c.putNull("layers_to_transform");
        c.putNull("layers_pattern");
        c.putObject("rank_pattern");
        c.putObject("alpha_pattern");
        c.put("revision", baseModel.revision());
        try {
            Files.createDirectories(dir);
            SafeTensorsWriter.write(dir.resolve(WEIGHTS_FILE), tensors, Map.of("format", "pt"));
            Path tmp = Files.createTempFile(dir, "." + CONFIG_FILE, ".tmp");
            Files.writeString(tmp, json.writeValueAsString(c));
            Files.move(tmp, dir.resolve(CONFIG_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write adapter to " + dir, e);
        }
    }
}
