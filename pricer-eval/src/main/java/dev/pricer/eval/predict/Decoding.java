package dev.pricer.eval.predict;

/** How a price is read from the model after {@code Price is $}. */
public enum Decoding {
    /** Generate a few tokens greedily and read the number they spell. */
    GREEDY,
    /** The probability-weighted mean of the number tokens among the top k next tokens (the course's improved predictor). */
    WEIGHTED;

    public static Decoding parse(String name) {
        for (Decoding d : values()) if (d.name().equalsIgnoreCase(name)) return d;
        throw new IllegalArgumentException("unknown decoding '" + name + "': greedy or weighted");
    }
}
