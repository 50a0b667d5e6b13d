package dev.pricer.data.read;

/** What the columns of a source mean. */
public enum Layout {
    /** A prompt dataset as published on the Hugging Face Hub: {@code text} and {@code price} (and maybe {@code category}). */
    PROMPTS,
    /** Raw Amazon Reviews 2023 product metadata: {@code title}, {@code description[]}, {@code features[]}, {@code details{}}, {@code price}, {@code main_category}. */
    AMAZON,
    /** Any table whose text and price columns are named by the user. */
    COLUMNS;

    public static Layout parse(String name) {
        for (Layout l : values()) if (l.name().equalsIgnoreCase(name)) return l;
        throw new IllegalArgumentException("unknown layout '" + name + "': prompts, amazon or columns");
    }
}
