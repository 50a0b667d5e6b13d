package dev.pricer.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.core.FormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How the base model's decoder projections (q, k, v, o, gate, up, down: every {@code nn.Linear} that
 * bitsandbytes replaces) are held: as loaded, or NF4 with double quantization (QLoRA). Embeddings, norms and
 * {@code lm_head} always stay float, as with bitsandbytes.
 */
public enum Quantization {
    NONE, NF4;

    /** {@code none} or {@code nf4}, as flags and configs spell it. */
    public static Quantization parse(String name) {
        return switch (name == null ? "none" : name.toLowerCase(Locale.ROOT)) {
            case "none", "" -> NONE;
            case "nf4" -> NF4;
            default -> throw new IllegalArgumentException("quantize = " + name + ": must be nf4 or none");
        };
    }

    public String flagName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * What {@code config.json}'s {@code quantization_config} asks for, as transformers writes it for bitsandbytes:
     * NF4 for 4-bit nf4, NONE without one. Other schemes are refused by name rather than loaded wrong.
     */
    public static Quantization declared(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        JsonNode q;
        try {
            q = new ObjectMapper().readTree(Files.readString(file)).path("quantization_config");
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read config: " + e.getMessage(), e);
        }
        if (q.isMissingNode() || q.isNull()) return NONE;
        String where = file + ": field 'quantization_config.";
        String method = q.path("quant_method").asText("bitsandbytes");
        if (!method.equals("bitsandbytes")) throw new FormatException(where + "quant_method' is '" + method + "'; only bitsandbytes nf4 is supported");
        if (q.path("load_in_8bit").asBoolean(false)) throw new FormatException(where + "load_in_8bit' is true; only 4-bit nf4 is supported");
        if (!q.path("load_in_4bit").asBoolean(false)) throw new FormatException(where + "load_in_4bit' is not true; only 4-bit nf4 is supported");
        String type = q.path("bnb_4bit_quant_type").asText("fp4");
        if (!type.equals("nf4")) throw new FormatException(where + "bnb_4bit_quant_type' is '" + type + "'; only nf4 is supported");
        String storage = q.path("bnb_4bit_quant_storage").asText("uint8");
        if (!storage.equals("uint8")) throw new FormatException(where + "bnb_4bit_quant_storage' is '" + storage + "'; only uint8 is supported");
        return NF4;
    }
}
