package dev.pricer.server.hub;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.util.Optional;

/**
 * A README.md as the Hub reads it: an optional metadata block of YAML between a first line "---" and the next line
 * "---", then the card's text.
 */
final class ModelCard {

    private static final YAMLMapper YAML = new YAMLMapper();
    private static final String FENCE = "---";

    private ModelCard() {
    }

    /** What is wrong with the card's metadata block, if anything; a card without one has nothing wrong. */
    static Optional<String> metadataError(String card) {
        String[] lines = card.split("\r?\n", -1);
        if (lines.length == 0 || !lines[0].strip().equals(FENCE)) return Optional.empty();
        StringBuilder yaml = new StringBuilder();
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].strip().equals(FENCE)) return mappingError(yaml.toString());
            yaml.append(lines[i]).append('\n');
        }
        return Optional.of("the metadata block opened by '---' on line 1 is not closed by another '---' line");
    }

    private static Optional<String> mappingError(String yaml) {
        try {
            JsonNode metadata = YAML.readTree(yaml);
            if (metadata == null || metadata.isMissingNode() || metadata.isNull() || metadata.isObject()) return Optional.empty();
            return Optional.of("the metadata must be a YAML mapping (key: value lines), not a " + metadata.getNodeType().name().toLowerCase());
        } catch (JacksonException e) {
            return Optional.of("the metadata is not valid YAML: " + e.getOriginalMessage());
        }
    }
}
