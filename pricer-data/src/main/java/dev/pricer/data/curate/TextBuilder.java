package dev.pricer.data.curate;

import dev.pricer.data.Item;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Builds an item's text as the course did: description, features and cleaned details make the contents; the
 * contents must be long enough, are cut to a ceiling, and are scrubbed of punctuation runs and part numbers;
 * the scrubbed title goes on the first line.
 */
public final class TextBuilder {

    /** Quotes, brackets, braces, colons and whitespace collapse to one space (details are JSON-like text). */
    private static final Pattern NOISE = Pattern.compile("[:\\[\\]\"{}【】\\s]+", Pattern.UNICODE_CHARACTER_CLASS);

    private final CurationConfig config;

    public TextBuilder(CurationConfig config) {
        this.config = config;
    }

    /** The contents (everything but the title), before scrubbing, each part ending in a newline. */
    public String contents(Item item) {
        StringBuilder out = new StringBuilder();
        if (config.textFields().contains("description")) appendLines(out, item.description());
        if (config.textFields().contains("features")) appendLines(out, item.features());
        if (config.textFields().contains("details") && !item.details().isEmpty()) {
            out.append(cleanDetails(detailsText(item.details()))).append('\n');
        }
        return out.toString();
    }

    /** The text from contents already checked for length: title line, then scrubbed contents cut at the ceiling. */
    public String text(String title, String contents) {
        String body = scrub(cutCodePoints(contents, config.ceilingChars()));
        if (!config.textFields().contains("title") || title.isBlank()) return body;
        return scrub(title) + "\n" + body;
    }

    private static void appendLines(StringBuilder out, List<String> lines) {
        List<String> present = lines.stream().filter(l -> l != null).toList();
        if (present.isEmpty()) return;
        out.append(String.join("\n", present)).append('\n');
    }

    /** Details as the course saw them: a Python-style JSON object, {@code {"Key": "Value", ...}}. */
    static String detailsText(Map<String, String> details) {
        List<String> pairs = new ArrayList<>(details.size());
        details.forEach((k, v) -> pairs.add('"' + k + "\": \"" + v + '"'));
        return "{" + String.join(", ", pairs) + "}";
    }

    String cleanDetails(String details) {
        if (!config.removeBoilerplate()) return details;
        for (String phrase : config.boilerplate()) details = details.replace(phrase, "");
        return details;
    }

    /** Punctuation runs become single spaces, stray commas merge, and part-number-like words go. */
    public String scrub(String text) {
        String s = NOISE.matcher(text).replaceAll(" ").strip();
        s = s.replace(" ,", ",").replace(",,,", ",").replace(",,", ",");
        if (config.partNumberLength() <= 0) return s;
        StringBuilder out = new StringBuilder(s.length());
        for (String word : s.split(" ", -1)) {
            if (isPartNumber(word)) continue;
            if (!out.isEmpty()) out.append(' ');
            out.append(word);
        }
        return out.toString();
    }

    private boolean isPartNumber(String word) {
        return word.codePointCount(0, word.length()) >= config.partNumberLength() && word.codePoints().anyMatch(Character::isDigit);
    }

    static String cutCodePoints(String s, int max) {
        if (s.codePointCount(0, s.length()) <= max) return s;
        return s.substring(0, s.offsetByCodePoints(0, max));
    }

    static int codePoints(String s) {
        return s.codePointCount(0, s.length());
    }
}
