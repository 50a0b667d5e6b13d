package dev.pricer.cli.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.cli.PricerCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataCommandTest {

    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {}

    private static Result pricer(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true));
        System.setErr(new PrintStream(e, true));
        try {
            int code = new CommandLine(new PricerCommand()).execute(args);
            return new Result(code, o.toString(), e.toString());
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void generateThenStatsThenCurate() throws Exception {
        Path catalog = dir.resolve("catalog.jsonl.gz");
        Result gen = pricer("data", "generate", "-n", "300", "--seed", "5", "-o", catalog.toString());
        assertEquals(0, gen.code(), gen.err());
        assertTrue(Files.size(catalog) > 0);

        Path chart = dir.resolve("charts/new/stats.png");
        Result stats = pricer("data", "stats", catalog.toString(), "--json", "--chart", chart.toString());
        assertEquals(0, stats.code(), stats.err());
        JsonNode s = new ObjectMapper().readTree(stats.out());
        assertEquals(300, s.get("items").asLong());
        assertEquals(8, s.get("categories").size());
        assertTrue(Files.size(chart) > 1000);

        Result curate = pricer("data", "curate", catalog.toString(), "-o", dir.resolve("out").toString(),
                "--no-token-limits", "--format", "parquet", "--train-size", "200", "--test-size", "50", "--json");
        assertEquals(0, curate.code(), curate.err());
        JsonNode c = new ObjectMapper().readTree(curate.out());
        assertEquals(300, c.get("records").asLong());
        assertEquals(50, c.get("test").asInt());
        assertTrue(Files.exists(dir.resolve("out/train.parquet")));
        assertTrue(curate.err().contains("curate"), "progress goes to stderr");

        Result pushed = pricer("data", "curate", catalog.toString(), "-o", dir.resolve("out2").toString(), "--no-token-limits",
                "--train-size", "200", "--test-size", "50", "--push-to-hub", "shop/prices", "--home", dir.resolve("home").toString(), "--json");
        assertEquals(0, pushed.code(), pushed.err());
        assertTrue(new ObjectMapper().readTree(pushed.out()).get("pushed").asText().startsWith("datasets/shop/prices@"), pushed.out());
        Result fromHub = pricer("data", "stats", "datasets/shop/prices", "--split", "test", "--home", dir.resolve("home").toString(), "--json");
        assertEquals(0, fromHub.code(), fromHub.err());
        assertEquals(50, new ObjectMapper().readTree(fromHub.out()).get("items").asLong(), "the pushed test split, read back by name");
        Result nowhere = pricer("data", "stats", "datasets/shop/nothing", "--home", dir.resolve("home").toString());
        assertEquals(1, nowhere.code());
        assertTrue(nowhere.err().contains("datasets/shop/nothing"), nowhere.err());
    }

    @Test
    void badInputIsOneClearLine() throws Exception {
        Path csv = dir.resolve("items.csv");
        Files.writeString(csv, "name,cost\nkettle,3\n");
        Result r = pricer("data", "stats", csv.toString(), "--text-columns", "name", "--price-column", "price");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("items.csv: no column 'price' (columns: name, cost)"), r.err());
        Result missing = pricer("data", "curate", csv.toString(), "-o", dir.resolve("o").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("--tokenizer"), missing.err());
    }

    /** Settings out of range are refused by name before anything is read or written. */
    @Test
    void curationSettingsOutOfRangeAreRefusedByName() throws Exception {
        Path catalog = dir.resolve("catalog.jsonl");
        assertEquals(0, pricer("data", "generate", "-n", "20", "--seed", "5", "-o", catalog.toString()).code());
        String[][] cases = {
                {"--ceiling-chars", "-1", "ceiling chars -1 must be at least 1"},
                {"--min-chars", "-1", "min chars -1 must not be negative"},
                {"--part-number-length", "-1", "part number length -1 must not be negative"},
                {"--bucket-cap", "-1", "bucket cap -1 must not be negative"},
                {"--threads", "0", "--threads must be at least 1, not 0"},
        };
        for (String[] c : cases) {
            Path out = dir.resolve("out" + c[0]);
            Result r = pricer("data", "curate", catalog.toString(), "-o", out.toString(), "--no-token-limits", c[0], c[1]);
            assertEquals(1, r.code(), String.join(" ", c));
            assertTrue(r.err().contains("error: " + c[2]), r.err());
            assertTrue(!Files.exists(out), "nothing written for " + c[0]);
        }
    }

    /** The catalog is JSON Lines whatever the name says, so another name is refused rather than written. */
    @Test
    void generateRefusesANameThatIsNotJsonLines() {
        Path csv = dir.resolve("catalog.csv");
        Result r = pricer("data", "generate", "-n", "5", "-o", csv.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(csv + ": the catalog is JSON Lines; name it .jsonl or .jsonl.gz"), r.err());
        assertTrue(!Files.exists(csv));
    }
}
