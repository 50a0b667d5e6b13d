package dev.pricer.data.curate;

import dev.pricer.data.Item;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds an item's text as the course did: description, features and cleaned details make the contents; the
 * contents must be long enough, are cut to a ceiling, and are scrubbed of punctuation runs and part numbers;
 * the scrubbed title goes on the first line.
 */
public final class TextBuilder {

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

    /**
     * Punctuation runs become single spaces, stray commas merge, and part-number-like words go: the course's
     * {@code re.sub(r'[:\[\]"{}【】\s]+', ' ', text).strip()}, then its comma replacements and word filter. Written as
     * one pass over the characters rather than a regex, which took a third of curation's Java time on 16 cores.
     */
    public String scrub(String text) {
        StringBuilder collapsed = new StringBuilder(text.length());
        int kept = 0;
        for (int i = 0; i < text.length(); i++) {
            if (!isNoise(text.charAt(i))) continue;
            if (i > kept) collapsed.append(text, kept, i).append(' ');
            else if (i == 0) collapsed.append(' ');
            kept = i + 1;
        }
        collapsed.append(text, kept, text.length());
        String s = collapsed.toString().strip();
        s = s.replace(" ,", ",").replace(",,,", ",").replace(",,", ",");
        if (config.partNumberLength() <= 0) return s;
        StringBuilder out = new StringBuilder(s.length());
        int start = 0;
        while (start <= s.length()) {
            int end = s.indexOf(' ', start);
            if (end < 0) end = s.length();
            if (!isPartNumber(s, start, end)) {
                if (!out.isEmpty()) out.append(' ');
                out.append(s, start, end);
            }
            start = end + 1;
        }
        return out.toString();
    }

    /** Quotes, brackets, braces, colons and whitespace (details are JSON-like text). */
    static boolean isNoise(char c) {
        return switch (c) {
            case ':', '[', ']', '"', '{', '}', '【', '】' -> true;
            default -> isWhiteSpace(c);
        };
    }

    /**
     * Unicode's White_Space property, which {@code \s} means under Python's re and Java's UNICODE_CHARACTER_CLASS:
     * the space separators, line and paragraph separators, tab to carriage return, and next line. Every such
     * character is in the BMP.
     */
    private static boolean isWhiteSpace(char c) {
        return Character.isSpaceChar(c) || (c >= '\t' && c <= '\r') || c == '\u0085';
    }

    private boolean isPartNumber(String s, int start, int end) {
        if (end - start < config.partNumberLength()) return false;  // fewer chars, so fewer code points
        for (int i = start; i < end; ) {
            int cp = s.codePointAt(i);
            if (Character.isDigit(cp)) return s.codePointCount(start, end) >= config.partNumberLength();
            i += Character.charCount(cp);
        }
        return false;
    }

    static String cutCodePoints(String s, int max) {
        if (s.codePointCount(0, s.length()) <= max) return s;
        return s.substring(0, s.offsetByCodePoints(0, max));
    }

    static int codePoints(String s) {
        return s.codePointCount(0, s.length());
    }
}
