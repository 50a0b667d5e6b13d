package dev.pricer.train.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExamplesFileTest {

    @TempDir
    Path dir;

    @Test
    void readsPromptCompletionPairsAndItemsAsTheCoursesPrompt() throws IOException {
        Path f = Files.writeString(dir.resolve("train.jsonl"), """
                {"prompt":"Q? Price is $","completion":"12.00"}

                {"text":"A red kettle","price":34.5,"category":"Appliances"}
                {"text":"A blue kettle","price":35.5}
                """);
        List<Example> e = ExamplesFile.read(f);
        assertEquals(3, e.size());
        assertEquals(new Example("Q? Price is $", "12.00"), e.get(0));
        assertEquals("How much does this cost to the nearest dollar?\n\nA red kettle\n\nPrice is $", e.get(1).prompt());
        assertEquals("34.00", e.get(1).completion(), "rounded half to even, as Python's round");
        assertEquals("36.00", e.get(2).completion());
    }

    /** A dataset as the hub keeps one (a push_to_hub layout): its train split's items, in the course's prompt. */
    @Test
    void aDatasetFolderGivesItsTrainSplit() throws Exception {
        Path data = Files.createDirectories(dir.resolve("prices/data"));
        try (var duck = java.sql.DriverManager.getConnection("jdbc:duckdb:"); var sql = duck.createStatement()) {
            sql.execute("COPY (SELECT * FROM (VALUES ('A red kettle' || chr(10) || 'Steel, 1.7 l', 34.5), ('A blue kettle', 35.5)) t(text, price)) TO '"
                    + data.resolve("train-00000-of-00001.parquet") + "' (FORMAT parquet)");
            sql.execute("COPY (SELECT 'A test kettle' AS text, 1.0 AS price) TO '" + data.resolve("test-00000-of-00001.parquet") + "' (FORMAT parquet)");
        }
        List<Example> e = ExamplesFile.read(dir.resolve("prices"));
        assertEquals(List.of(new Example("How much does this cost to the nearest dollar?\n\nA red kettle\nSteel, 1.7 l\n\nPrice is $", "34.00"),
                new Example("How much does this cost to the nearest dollar?\n\nA blue kettle\n\nPrice is $", "36.00")), e);
        assertEquals(e, ExamplesFile.read(data.resolve("train-00000-of-00001.parquet")), "the split's file itself");
        Files.delete(data.resolve("train-00000-of-00001.parquet"));
        var missing = assertThrows(RuntimeException.class, () -> ExamplesFile.checkStart(dir.resolve("prices")));
        assertTrue(missing.getMessage().contains("no files of split 'train'"), missing.getMessage());
    }

    @Test
    void aBadLineIsAnErrorNamingFileAndLine() throws IOException {
        Path f = Files.writeString(dir.resolve("bad.jsonl"), "{\"text\":\"ok\",\"price\":3}\n{\"text\":\"no price\"}\n");
        var e = assertThrows(IllegalArgumentException.class, () -> ExamplesFile.read(f));
        assertTrue(e.getMessage().contains("bad.jsonl:2"), e.getMessage());
        Files.writeString(f, "{\"text\":\"ok\",\"price\":-3}\n");
        e = assertThrows(IllegalArgumentException.class, () -> ExamplesFile.read(f));
        assertTrue(e.getMessage().contains("bad.jsonl:1") && e.getMessage().contains("-3"), e.getMessage());
        Files.writeString(f, "{\"text\":\"ok\",\"pri");
        e = assertThrows(IllegalArgumentException.class, () -> ExamplesFile.read(f));
        assertTrue(e.getMessage().contains("not JSON"), e.getMessage());
        Files.writeString(f, "\n");
        e = assertThrows(IllegalArgumentException.class, () -> ExamplesFile.read(f));
        assertTrue(e.getMessage().contains("no examples"), e.getMessage());
    }
}
