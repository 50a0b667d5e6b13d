package dev.pricer.eval.predict;

import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a price out of generated text as the course's Tester did: drop {@code $} and {@code ,}, take the first number. */
public final class PriceText {

    private static final Pattern NUMBER = Pattern.compile("[-+]?\\d*\\.\\d+|\\d+");

    private PriceText() {
    }

    public static OptionalDouble parse(String text) {
        Matcher m = NUMBER.matcher(text.replace("$", "").replace(",", ""));
        return m.find() ? OptionalDouble.of(Double.parseDouble(m.group())) : OptionalDouble.empty();
    }
}
