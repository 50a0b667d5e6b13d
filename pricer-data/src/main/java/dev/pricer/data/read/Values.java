package dev.pricer.data.read;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a field as the SQL scan hands it over into text, a list or a map. JSON sources hand over JSON values
 * (DuckDB extracts them; Jackson reads each small value); CSV hands over plain strings.
 */
final class Values {

    /** Parquet doubles may be NaN or infinite, which DuckDB's {@code to_json} writes bare. */
    private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private final boolean json;

    Values(boolean json) {
        this.json = json;
    }

    String text(String raw) {
        if (raw == null) return null;
        if (!json) return raw;
        JsonNode node = parse(raw);
        if (node.isNull()) return null;
        if (node.isArray()) return String.join("\n", list(node));
        return asText(node);
    }

    List<String> list(String raw) {
        if (raw == null) return List.of();
        if (!json) return raw.isEmpty() ? List.of() : List.of(raw);
        JsonNode node = parse(raw);
        if (node.isNull()) return List.of();
        if (node.isArray()) return list(node);
        return List.of(asText(node));
    }

    /** A details map: a JSON object, or a string holding one (the Hub's copies store details as a JSON string). */
    Map<String, String> map(String raw) {
        if (raw == null) return Map.of();
        JsonNode node = json ? parse(raw) : null;
        if (node != null && node.isObject()) return map(node);
        String text = node == null ? raw : node.isTextual() ? node.asText() : null;
        if (text == null || !text.strip().startsWith("{")) return Map.of();
        try {
            JsonNode inner = JSON.readTree(text);
            return inner.isObject() ? map(inner) : Map.of();
        } catch (JsonProcessingException e) {
            return Map.of();
        }
    }

    private static List<String> list(JsonNode array) {
        List<String> out = new ArrayList<>(array.size());
        for (JsonNode e : array) if (!e.isNull()) out.add(asText(e));
        return out;
    }

    private static Map<String, String> map(JsonNode object) {
        Map<String, String> out = new LinkedHashMap<>();
        object.properties().forEach(e -> out.put(e.getKey(), asText(e.getValue())));
        return out;
    }

    private static String asText(JsonNode node) {
        return node.isValueNode() ? node.asText() : node.toString();
    }

    private static JsonNode parse(String raw) {
        try {
            return JSON.readTree(raw);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("DuckDB handed over invalid JSON: " + raw, e);
        }
    }
}
