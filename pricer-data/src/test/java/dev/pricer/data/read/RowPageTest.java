package dev.pricer.data.read;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RowPageTest {

    @TempDir
    Path dir;

    /** A split's shards read as one table, a page at a time, each column with its own type. */
    @Test
    void pagesOfASplitAcrossItsShards() throws Exception {
        Path first = dir.resolve("train-00000-of-00002.parquet"), second = dir.resolve("train-00001-of-00002.parquet");
        try (var duck = DriverManager.getConnection("jdbc:duckdb:"); var sql = duck.createStatement()) {
            sql.execute("COPY (SELECT 'kettle ' || i AS title, i * 1.5 AS price, [i, i + 1] AS tags FROM range(3) t(i)) TO '" + first + "' (FORMAT parquet)");
            sql.execute("COPY (SELECT 'lamp ' || i AS title, i * 2.0 AS price, [i] AS tags FROM range(2) t(i)) TO '" + second + "' (FORMAT parquet)");
        }
        RowPage page = RowPage.read(List.of(first, second), 2, 2);
        assertEquals(List.of("title", "price", "tags"), page.columns());
        assertEquals(5, page.total());
        assertEquals("kettle 2", page.rows().get(0).get("title"));
        assertEquals(3.0, ((Number) page.rows().get(0).get("price")).doubleValue());
        assertEquals("[2, 3]", page.rows().get(0).get("tags"), "a list comes as its text");
        assertEquals("lamp 0", page.rows().get(1).get("title"));
        assertEquals(List.of(), RowPage.read(List.of(first, second), 5, 10).rows(), "past the end: no rows, the total still");

        Path jsonl = Files.writeString(dir.resolve("test.jsonl"), "{\"text\":\"a\",\"price\":1}\n{\"text\":\"b\",\"price\":2}\n");
        assertEquals(List.of(Map.of("text", "b", "price", 2L)), RowPage.read(List.of(jsonl), 1, 5).rows());
        assertThrows(IllegalArgumentException.class, () -> RowPage.read(List.of(jsonl), 0, 0));
        assertThrows(IllegalArgumentException.class, () -> RowPage.read(List.of(jsonl), -1, 5));
        Path broken = Files.writeString(dir.resolve("broken.parquet"), "not parquet");
        assertTrue(assertThrows(DataFileException.class, () -> RowPage.read(List.of(broken), 0, 5)).getMessage().contains("broken.parquet"));
    }

    @Test
    void aFileBelongsToTheSplitItsPlaceNames() {
        assertEquals(Optional.of("train"), Source.splitOf("data/train-00000-of-00001.parquet"));
        assertEquals(Optional.of("test"), Source.splitOf("data/test-00000-of-00001.jsonl"));
        assertEquals(Optional.of("validation"), Source.splitOf("validation.jsonl"));
        assertEquals(Optional.empty(), Source.splitOf("README.md"));
        assertEquals(Optional.empty(), Source.splitOf("data/notes.txt"));
    }
}
