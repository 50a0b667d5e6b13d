package dev.pricer.data.write;

/** How curated items are written: JSON Lines or Parquet, one file per split. */
public enum OutputFormat {
    JSONL("jsonl", "(FORMAT json)"), PARQUET("parquet", "(FORMAT parquet, COMPRESSION zstd)");

    private final String extension;
    private final String copyOptions;

    OutputFormat(String extension, String copyOptions) {
        this.extension = extension;
        this.copyOptions = copyOptions;
    }

    public String extension() {
        return extension;
    }

    /** DuckDB's {@code COPY ... TO} options for this format. */
    public String copyOptions() {
        return copyOptions;
    }

    public static OutputFormat parse(String name) {
        for (OutputFormat f : values()) if (f.extension.equalsIgnoreCase(name)) return f;
        throw new IllegalArgumentException("unknown output format '" + name + "': jsonl or parquet");
    }
}
