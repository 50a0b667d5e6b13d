package dev.pricer.server.hub;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A README.md as the Hub reads it: an optional metadata block of YAML between a first line "---" and the next line
 * "---", then the card's text in Markdown.
 */
final class ModelCard {

    static final String PATH = "README.md";
    private static final YAMLMapper YAML = new YAMLMapper();
    private static final String FENCE = "---";
    private static final List<TablesExtension> TABLES = List.of((TablesExtension) TablesExtension.create());
    private static final Parser MARKDOWN = Parser.builder().extensions(TABLES).build();
    // Anyone who may push may write the card: its own HTML is shown as text and javascript: links are dropped.
    private static final HtmlRenderer HTML = HtmlRenderer.builder().extensions(TABLES).escapeHtml(true).sanitizeUrls(true).build();

    private ModelCard() {
    }

    /** The card's metadata block, null when it has none; {@code unclosed} when a "---" on line 1 is never closed. */
    private record Parts(String yaml, String text, boolean unclosed) {
    }

    private static Parts split(String card) {
        String[] lines = card.split("\r?\n", -1);
        if (!lines[0].strip().equals(FENCE)) return new Parts(null, card, false);
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].strip().equals(FENCE)) {
                return new Parts(String.join("\n", Arrays.copyOfRange(lines, 1, i)), String.join("\n", Arrays.copyOfRange(lines, i + 1, lines.length)), false);
            }
        }
        return new Parts(null, card, true);
    }

    /** What is wrong with the card's metadata block, if anything; a card without one has nothing wrong. */
    static Optional<String> metadataError(String card) {
        Parts parts = split(card);
        if (parts.unclosed()) return Optional.of("the metadata block opened by '---' on line 1 is not closed by another '---' line");
        if (parts.yaml() == null) return Optional.empty();
        try {
            JsonNode metadata = YAML.readTree(parts.yaml());
            if (metadata == null || metadata.isMissingNode() || metadata.isNull() || metadata.isObject()) return Optional.empty();
            return Optional.of("the metadata must be a YAML mapping (key: value lines), not a " + metadata.getNodeType().name().toLowerCase());
        } catch (JacksonException e) {
            return Optional.of("the metadata is not valid YAML: " + e.getOriginalMessage());
        }
    }

    /**
     * The card as a repository page shows it: {@code metadata} (an object, empty when the card has none or it is not a
     * valid mapping, then said in {@code metadataError}) and {@code html}, the text rendered from Markdown.
     */
    static ObjectNode render(String card) {
        Parts parts = split(card);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        Optional<String> error = metadataError(card);
        ObjectNode metadata = out.putObject("metadata");
        if (error.isPresent()) {
            out.put("metadataError", error.get());
        } else if (parts.yaml() != null) {
            try {
                JsonNode read = YAML.readTree(parts.yaml());
                if (read != null && read.isObject()) metadata.setAll((ObjectNode) read);
            } catch (JacksonException e) {
                throw new IllegalStateException("metadata that passed its check failed to parse", e);
            }
        }
        out.put("html", HTML.render(MARKDOWN.parse(parts.text())));
        return out;
    }
}
