package dev.pricer.data.read;

import dev.pricer.data.Item;
import dev.pricer.data.Prompts;
import dev.pricer.data.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ItemReaderTest {

    @TempDir
    Path dir;

    static List<Row> readAll(Source source) {
        List<Row> rows = new ArrayList<>();
        try (ItemReader reader = ItemReader.open(source)) {
            reader.forEachRemaining(rows::add);
        }
        return rows;
    }

    static List<Item> items(List<Row> rows) {
        return rows.stream().filter(r -> r instanceof Row.Parsed).map(r -> ((Row.Parsed) r).item()).toList();
    }

    static List<Row.Skipped> skipped(List<Row> rows) {
        return rows.stream().filter(r -> r instanceof Row.Skipped).map(r -> (Row.Skipped) r).toList();
    }

    private static Source source(List<Path> files) {
        return new Source(files, null, null, null);
    }

    private Path write(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
        return file;
    }

    private static String sql(Path p) {
        return "'" + p.toString().replace("'", "''") + "'";
    }

    @Test
    void huggingFaceParquetShardsOfASplit() throws IOException {
        Files.createDirectories(dir.resolve("data"));
        String prompt = Prompts.training("Acme Kettle\nBoils water fast", 24.99);
        TestData.duckdb(
                "COPY (SELECT " + sql(Path.of(prompt)) + " AS text, 24.99 AS price) TO " + sql(dir.resolve("data/train-00000-of-00002.parquet")),
                "COPY (SELECT 'Plain text' AS text, 3.5::DOUBLE AS price UNION ALL SELECT 'Bad price', 'NaN'::DOUBLE) TO "
                        + sql(dir.resolve("data/train-00001-of-00002.parquet")),
                "COPY (SELECT 'Test item' AS text, 7 AS price) TO " + sql(dir.resolve("data/test-00000-of-00001.parquet")));
        List<Path> train = Source.resolve(dir, "train");
        assertEquals(2, train.size());
        List<Row> rows = readAll(source(train));
        List<Item> items = items(rows);
        assertEquals(2, items.size());
        assertEquals("Acme Kettle", items.get(0).title());
        assertEquals(List.of("Boils water fast"), items.get(0).description());
        assertEquals(24.99, items.get(0).price());
        assertEquals(List.of("Plain text"), items.get(1).description());
        Row.Skipped nan = skipped(rows).getFirst();
        assertEquals("row 2", nan.where());
        assertTrue(nan.reason().contains("not a finite number"), nan.reason());
        assertTrue(nan.toString().contains("train-00001-of-00002.parquet"));
        assertEquals(List.of("Test item"), items(readAll(source(Source.resolve(dir, "test")))).getFirst().description());
    }

    @Test
    void globsAndCsvAndJsonlPromptDatasetsReadAlike() throws IOException {
        write("p/train.jsonl", "{\"text\": \"A red kettle, 1.7 litres\", \"price\": 24.5, \"category\": \"Appliances\"}\n");
        write("p/train.csv", "text,price,category\n\"A red kettle, 1.7 litres\",24.5,Appliances\n");
        Item fromJson = items(readAll(source(List.of(dir.resolve("p/train.jsonl"))))).getFirst();
        Item fromCsv = items(readAll(source(List.of(dir.resolve("p/train.csv"))))).getFirst();
        assertEquals(fromJson, fromCsv);
        assertEquals("Appliances", fromCsv.category());
        assertEquals(2, Source.resolve(dir.resolve("p/train.*"), "train").size());
    }

    @Test
    void rawAmazonMetadata() throws IOException {
        Path file = write("meta_Appliances.jsonl", """
                {"main_category": "Tools & Home Improvement", "title": "Acme Filter", "features": ["Fits most fridges", "NSF certified"], "description": ["Clean water."], "price": 19.99, "details": {"Brand": "Acme", "Pack": 2}, "images": [{"large": "x"}]}
                {"main_category": "All Electronics", "title": "No price", "features": [], "description": [], "price": "None", "details": {}}
                {"main_category": "All Electronics", "title": "String details", "features": [], "description": [], "price": "5", "details": "{\\"Color\\": \\"Red\\"}"}
                """);
        List<Row> rows = readAll(source(List.of(file)));
        assertEquals(Layout.AMAZON, ItemReader.detect(source(List.of(file))));
        List<Item> items = items(rows);
        Item filter = items.getFirst();
        assertEquals("Acme Filter", filter.title());
        assertEquals(List.of("Fits most fridges", "NSF certified"), filter.features());
        assertEquals(List.of("Clean water."), filter.description());
        assertEquals(Map.of("Brand", "Acme", "Pack", "2"), filter.details());
        assertEquals(List.of("Brand", "Pack"), List.copyOf(filter.details().keySet()));
        assertEquals("Appliances", filter.category(), "the course named items by their file's category");
        assertEquals(Map.of("Color", "Red"), items.get(1).details());
        Row.Skipped none = skipped(rows).getFirst();
        assertEquals("line 2", none.where());
        assertEquals("missing price", none.reason());

        Path other = write("electronics.jsonl", Files.readString(file));
        assertEquals("Tools & Home Improvement", items(readAll(source(List.of(other)))).getFirst().category());
    }

    @Test
    void anyCsvOrJsonlWithNamedColumns() throws IOException {
        Path csv = write("shop.csv", "name,blurb,cost,dept\nKettle,\"Boils fast, quietly\",$12.50,Kitchen\n");
        Path jsonl = write("shop.jsonl", "{\"name\": \"Kettle\", \"blurb\": [\"Boils fast,\", \"quietly\"], \"cost\": 12.5, \"dept\": \"Kitchen\"}\n");
        Columns columns = new Columns(List.of("name", "blurb"), "cost", "dept");
        Item fromCsv = items(readAll(new Source(List.of(csv), null, columns, null))).getFirst();
        assertEquals(List.of("Kettle", "Boils fast, quietly"), fromCsv.description());
        assertEquals(12.5, fromCsv.price());
        assertEquals("Kitchen", fromCsv.category());
        Item fromJsonl = items(readAll(new Source(List.of(jsonl), null, columns, null))).getFirst();
        assertEquals(List.of("Kettle", "Boils fast,\nquietly"), fromJsonl.description());

        Columns titled = new Columns(List.of("title", "blurb"), "cost", null);
        Path t = write("titled.csv", "title,blurb,cost\nKettle,Boils,3\n");
        Item item = items(readAll(new Source(List.of(t), null, titled, null))).getFirst();
        assertEquals("Kettle", item.title());
        assertEquals(List.of("Boils"), item.description());
    }

    @Test
    void badLinesAreSkippedWithTheirLineNumbersAndReadingGoesOn() throws IOException {
        Path file = write("bad.jsonl", String.join("\n",
                "{\"text\": \"fine\", \"price\": 1}",
                "{\"text\": \"broken\", \"price\": ",
                "",
                "{\"text\": \"word price\", \"price\": \"abc\"}",
                "{\"text\": \"nan\", \"price\": \"NaN\"}",
                "{\"text\": \"negative\", \"price\": -3}",
                "{\"text\": \"\", \"price\": 4}",
                "{\"price\": 4}",
                "[1, 2]",
                "{\"text\": \"also fine\", \"price\": \"2.5\"}",
                "{\"text\": \"cut off at the end of the fi"));
        List<Row> rows = readAll(source(List.of(file)));
        assertEquals(List.of("fine", "also fine"), items(rows).stream().map(i -> i.description().getFirst()).toList());
        List<String> skips = skipped(rows).stream().map(s -> s.where() + ": " + s.reason()).toList();
        assertEquals(List.of(
                "line 2: malformed JSON",
                "line 4: price 'abc' is not a number",
                "line 5: price 'NaN' is not a finite number",
                "line 6: price -3 is negative",
                "line 7: empty text",
                "line 8: empty text",
                "line 9: not a JSON object",
                "line 11: malformed JSON"), skips);
    }

    @Test
    void malformedCsvRecordsAreSkippedWithTheirLines() throws IOException {
        Path file = write("bad.csv", "text,price\nok,1\nno price here\n\"multi\nline\",abc\nfine,2\n\"unterminated,3\n");
        List<Row> rows = readAll(source(List.of(file)));
        assertEquals(List.of("ok", "fine"), items(rows).stream().map(i -> i.description().getFirst()).toList());
        List<String> skips = skipped(rows).stream().map(s -> s.where() + ": " + s.reason()).toList();
        assertEquals(List.of(
                "record 2: malformed CSV at column 'price': Expected Number of Columns: 2 Found: 1",
                "record 3: price 'abc' is not a number",
                "record 5: malformed CSV at column 'text': Value with unterminated quote found."), skips);
    }

    @Test
    void missingColumnsNameTheFileAndTheColumn() throws IOException {
        Path csv = write("noprice.csv", "text,cost\nkettle,3\n");
        Columns columns = new Columns(List.of("text"), "price", null);
        DataFileException e = assertThrows(DataFileException.class, () -> readAll(new Source(List.of(csv), null, columns, null)));
        assertTrue(e.getMessage().contains("noprice.csv") && e.getMessage().contains("no column 'price'"), e.getMessage());
        DataFileException unknown = assertThrows(DataFileException.class, () -> readAll(source(List.of(csv))));
        assertTrue(unknown.getMessage().contains("cannot tell what the columns mean (text, cost)"), unknown.getMessage());
    }

    @Test
    void filesThatAreNotWhatTheirExtensionSaysAreRefused() throws IOException {
        Path parquet = dir.resolve("real.parquet");
        TestData.duckdb("COPY (SELECT 'x' AS text, 1 AS price) TO " + sql(parquet));
        Path disguised = dir.resolve("disguised.jsonl");
        Files.copy(parquet, disguised);
        DataFileException a = assertThrows(DataFileException.class, () -> readAll(source(List.of(disguised))));
        assertTrue(a.getMessage().contains("disguised.jsonl") && a.getMessage().contains("is a Parquet file"), a.getMessage());

        Path text = write("text.parquet", "text,price\nx,1\n");
        DataFileException b = assertThrows(DataFileException.class, () -> readAll(source(List.of(text))));
        assertTrue(b.getMessage().contains("text.parquet: not a Parquet file"), b.getMessage());

        Path csvAsJson = write("table.jsonl", "text,price\nx,1\n");
        DataFileException c = assertThrows(DataFileException.class, () -> readAll(source(List.of(csvAsJson))));
        assertTrue(c.getMessage().contains("is not JSON Lines"), c.getMessage());

        assertThrows(DataFileException.class, () -> FileFormat.of(Path.of("items.xlsx")));
    }

    @Test
    void aTruncatedParquetFileIsRefusedByName() throws IOException {
        Path parquet = dir.resolve("full.parquet");
        TestData.duckdb("COPY (SELECT 'item ' || i AS text, i AS price FROM range(1000) t(i)) TO " + sql(parquet));
        byte[] bytes = Files.readAllBytes(parquet);
        Path cut = dir.resolve("cut.parquet");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
        DataFileException e = assertThrows(DataFileException.class, () -> readAll(source(List.of(cut))));
        assertTrue(e.getMessage().contains("cut.parquet"), e.getMessage());
        assertEquals(1000, items(readAll(source(List.of(parquet)))).size());
    }

    /**
     * DuckDB streams results, and a streamed read that fails says only "Invalid result set": the refusal names the
     * cause instead.
     */
    @Test
    void aTruncatedGzipFileIsRefusedByNameAndCause() throws IOException {
        Path whole = dir.resolve("whole.jsonl.gz");
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(whole))) {
            for (int i = 0; i < 20_000; i++) out.write(("{\"text\": \"item " + i + " " + "x".repeat(i % 97) + "\", \"price\": " + (i % 500 + 1) + "}\n").getBytes());
        }
        byte[] bytes = Files.readAllBytes(whole);
        Path cut = dir.resolve("cut.jsonl.gz");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length * 6 / 10));
        DataFileException e = assertThrows(DataFileException.class, () -> readAll(source(List.of(cut))));
        assertTrue(e.getMessage().contains("cut.jsonl.gz") && e.getMessage().contains("end of GZIP stream"), e.getMessage());
        assertEquals(20_000, items(readAll(source(List.of(whole)))).size());
    }

    @Test
    void gzipWithoutItsExtensionIsRefused() throws IOException {
        Path file = dir.resolve("items.jsonl");
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(file))) {
            out.write("{\"text\": \"x\", \"price\": 1}\n".getBytes());
        }
        DataFileException e = assertThrows(DataFileException.class, () -> readAll(source(List.of(file))));
        assertTrue(e.getMessage().contains("gzip"), e.getMessage());
        Path gz = dir.resolve("items.jsonl.gz");
        Files.move(file, gz);
        assertEquals(1, items(readAll(source(List.of(gz)))).size());
    }
}
