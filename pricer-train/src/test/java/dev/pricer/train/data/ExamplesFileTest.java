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
