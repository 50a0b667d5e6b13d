package dev.pricer.data.curate;

import dev.pricer.core.tokenizer.Tokenizer;
import dev.pricer.data.Item;
import dev.pricer.data.Prompts;
import dev.pricer.data.TestData;
import dev.pricer.data.read.DataFileException;
import dev.pricer.data.read.ItemReader;
import dev.pricer.data.read.Row;
import dev.pricer.data.read.Source;
import dev.pricer.data.synth.CatalogGenerator;
import dev.pricer.data.write.OutputFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CurationTest {

    static Tokenizer tokenizer;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        tokenizer = TestData.llama();
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    private static CurationConfig sized(int train, int test) {
        CurationConfig c = CurationConfig.course();
        return new CurationConfig(c.minPrice(), c.maxPrice(), c.textFields(), true, c.boilerplate(), 7, 300, 1120, true,
                150, 160, true, 1200, 240, c.categoryWeights(), 5, 42, true, train, test);
    }

    private Path catalog(int n) {
        Path file = dir.resolve("catalog.jsonl");
        new CatalogGenerator(3).write(file, n, done -> { });
        return file;
    }

    @Test
    void curatesACatalogIntoTrainAndTestJsonl() throws IOException {
        Path in = catalog(100);
        List<long[]> progress = new ArrayList<>();
        Curation curation = new Curation(new Curator(sized(60, 20), tokenizer), 2, (rows, kept) -> progress.add(new long[]{rows, kept}));
        Curation.Report report = curation.run(new Source(List.of(in), null, null, null), dir.resolve("out"), OutputFormat.JSONL);
        assertEquals(100, report.rows());
        assertEquals(0, report.skipped());
        assertEquals(report.curated(), report.sampled());
        assertEquals(20, report.test());
        assertEquals(Math.min(60, report.sampled() - 20), report.train());
        assertEquals(100, progress.getLast()[0]);
        assertEquals(report.curated(), report.curatedByCategory().values().stream().mapToLong(Long::longValue).sum());
        try (var files = Files.list(dir.resolve("out"))) {
            assertEquals(List.of("test.jsonl", "train.jsonl"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        List<String> lines = Files.readAllLines(dir.resolve("out/test.jsonl"));
        assertEquals(20, lines.size());
        var first = new com.fasterxml.jackson.databind.ObjectMapper().readTree(lines.getFirst());
        assertEquals(Prompts.training(first.get("text").asText(), first.get("price").asDouble()), first.get("prompt").asText());
        assertTrue(first.get("tokens").asInt() <= 160 && first.get("tokens").asInt() > 150, first.toString());

        // The output is a prompt dataset that reads back to the same texts.
        List<Row> back = new ArrayList<>();
        try (ItemReader reader = ItemReader.open(new Source(List.of(dir.resolve("out/test.jsonl")), null, null, null))) {
            reader.forEachRemaining(back::add);
        }
        Item item = ((Row.Parsed) back.getFirst()).item();
        assertEquals(first.get("text").asText(), item.title() + "\n" + item.description().getFirst());
        assertEquals(first.get("category").asText(), item.category());
    }

    @Test
    void parquetOutputAndTheSameSeedGiveTheSameSplit() throws SQLException {
        Path in = catalog(60);
        Curator curator = new Curator(sized(30, 10), tokenizer);
        new Curation(curator, 2, (r, k) -> { }).run(new Source(List.of(in), null, null, null), dir.resolve("a"), OutputFormat.PARQUET);
        new Curation(curator, 1, (r, k) -> { }).run(new Source(List.of(in), null, null, null), dir.resolve("b"), OutputFormat.PARQUET);
        assertEquals(titles(dir.resolve("a/train.parquet")), titles(dir.resolve("b/train.parquet")));
        assertEquals(10, titles(dir.resolve("a/test.parquet")).size());
    }

    private static List<String> titles(Path parquet) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT title, price FROM read_parquet('" + parquet + "')")) {
            while (r.next()) out.add(r.getString(1) + " " + r.getDouble(2));
        }
        return out;
    }

    @Test
    void skippedAndDroppedItemsAreCountedByReason() throws IOException {
        Path in = dir.resolve("mixed.jsonl");
        String good = "{\"title\": \"Kettle\", \"description\": [\"" + TestData.words(200) + "\"], \"features\": [], \"details\": {}, \"price\": %s}";
        Files.writeString(in, String.join("\n", good.formatted("10"), good.formatted("\"ten\""), good.formatted("2000"),
                "{\"title\": \"Short\", \"description\": [\"tiny\"], \"features\": [], \"details\": {}, \"price\": 3}", "{oops"));
        Curation.Report r = new Curation(new Curator(sized(10, 0), tokenizer), 1, (a, b) -> { })
                .run(new Source(List.of(in), null, null, "Kitchen"), dir.resolve("out"), OutputFormat.JSONL);
        assertEquals(5, r.rows());
        assertEquals(2, r.skipped());
        assertEquals(List.of("line 2", "line 5"), r.firstSkipped().stream().map(Row.Skipped::where).toList());
        assertEquals(Map.of(Curator.Drop.PRICE_OUT_OF_RANGE, 1L, Curator.Drop.TOO_FEW_CHARS, 1L), r.dropped());
        assertEquals(1, r.curated());
        assertEquals(Map.of("Kitchen", 1L), r.curatedByCategory());
    }

    @Test
    void aFailedRunLeavesNoOutputBehind() throws IOException {
        Path in = catalog(50);
        Path broken = dir.resolve("broken.parquet");
        Files.writeString(broken, "not parquet at all");
        Path out = dir.resolve("out");
        Curation curation = new Curation(new Curator(sized(10, 5), tokenizer), 1, (r, k) -> { });
        assertThrows(DataFileException.class, () -> curation.run(new Source(List.of(in, broken), null, null, null), out, OutputFormat.JSONL));
        try (var files = Files.list(out)) {
            assertFalse(files.findAny().isPresent(), "no split and no work folder are left");
        }
    }
}
