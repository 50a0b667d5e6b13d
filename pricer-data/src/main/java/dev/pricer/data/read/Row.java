package dev.pricer.data.read;

import dev.pricer.data.Item;

import java.nio.file.Path;

/** One record of a source: an item, or the reason it was skipped and where it was. */
public sealed interface Row {

    /** Where in the file, such as {@code line 12} or {@code row 7}. */
    String where();

    record Parsed(String where, Item item) implements Row {}

    record Skipped(Path file, String where, String reason) implements Row {
        @Override
        public String toString() {
            return file.getFileName() + " " + where + ": " + reason;
        }
    }
}
