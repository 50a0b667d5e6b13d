package dev.pricer.data.read;

/** What the columns of a source mean. */
public enum Layout {
    /** A prompt dataset as published on the Hugging Face Hub: {@code text} and {@code price} (and maybe {@code category}). */
    PROMPTS,
    /** Raw Amazon Reviews 2023 product metadata: {@code title}, {@code description[]}, {@code features[]}, {@code details{}}, {@code price}, {@code main_category}. */
    AMAZON,
    /** Any table whose text and price columns are named by the user. */
    COLUMNS
}
