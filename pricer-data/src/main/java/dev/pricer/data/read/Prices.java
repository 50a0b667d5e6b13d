package dev.pricer.data.read;

import java.util.regex.Pattern;

/** Reads a price field; a price that is missing, not a number, not finite or negative is a reason to skip. */
final class Prices {

    /** Decimal numbers only: Java would also take {@code 12f} or hexadecimal, which no price file means. */
    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern NOT_FINITE = Pattern.compile("[+-]?(nan|inf|infinity)", Pattern.CASE_INSENSITIVE);

    private Prices() {
    }

    /** The price, or throws {@link BadValue} saying what is wrong with it. */
    static double parse(String raw, String field) {
        if (raw == null || raw.isBlank() || raw.strip().equalsIgnoreCase("none")) {
            throw new BadValue("missing " + field);
        }
        String s = raw.strip();
        if (s.startsWith("$")) s = s.substring(1).strip();
        if (NOT_FINITE.matcher(s).matches()) throw new BadValue(field + " '" + raw.strip() + "' is not a finite number");
        if (!NUMBER.matcher(s).matches()) throw new BadValue(field + " '" + abbreviate(raw) + "' is not a number");
        double price = Double.parseDouble(s);
        if (!Double.isFinite(price)) throw new BadValue(field + " '" + raw.strip() + "' is not a finite number");
        if (price < 0) throw new BadValue(field + " " + raw.strip() + " is negative");
        return price;
    }

    static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }

    static final class BadValue extends RuntimeException {
        BadValue(String message) {
            super(message, null, false, false);
        }
    }
}
