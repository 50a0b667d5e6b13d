package dev.pricer.data.read;

import java.nio.file.Path;
import java.util.Locale;

/** The container format of a data file, told by its extension ({@code .gz} allowed on the text formats). */
public enum FileFormat {
    PARQUET, JSONL, CSV, TSV;

    public static FileFormat of(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".parquet")) return PARQUET;
        String plain = name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name;
        if (plain.endsWith(".jsonl") || plain.endsWith(".ndjson") || plain.endsWith(".json")) return JSONL;
        if (plain.endsWith(".csv")) return CSV;
        if (plain.endsWith(".tsv")) return TSV;
        throw new DataFileException(file, "unknown file type: expected .parquet, .jsonl, .json, .ndjson, .csv or .tsv (optionally .gz)");
    }
}
