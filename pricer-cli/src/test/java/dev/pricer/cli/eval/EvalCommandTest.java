package dev.pricer.cli.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.pricer.cli.PricerCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvalCommandTest {

    record Result(int code, String out, String err) {}

    private static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine line = PricerCommand.create();
        line.setOut(new PrintWriter(out, true));
        line.setErr(new PrintWriter(err, true));
        int code = line.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    /** A split whose price grows with the number of "premium" words, so the regressions have something to learn. */
    private static void split(Path file, int count, long seed) throws Exception {
        SplittableRandom rng = new SplittableRandom(seed);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int premium = rng.nextInt(0, 6);
            String text = "Item " + i + "\\n" + "premium ".repeat(premium) + "widget made of steel";
            lines.add(String.format(Locale.ROOT, "{\"title\":\"Item %d\",\"price\":%d.0,\"text\":\"%s\"}", i, 20 + 100 * premium, text));
        }
        Files.write(file, lines);
    }

    @Test
    void baselinesAreScoredOnTheSameItemsWithChartsAndJson(@TempDir Path dir) throws Exception {
        split(dir.resolve("train.jsonl"), 200, 1);
        split(dir.resolve("test.jsonl"), 40, 2);
        Result r = run("eval", "--data", dir.toString(), "--baselines", "--size", "30", "--out", dir.resolve("charts").toString(),
                "--home", dir.resolve("home").toString(), "--dataset", "shop-test", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode reports = JsonMapper.builder().build().readTree(r.out()).get("reports");
        assertEquals(5, reports.size());
        for (JsonNode rep : reports) assertEquals(30, rep.get("items").asInt());
        JsonNode words = reports.get(3);
        assertEquals("bag of words + linear regression", words.get("name").asText());
        assertTrue(words.get("average_error").asDouble() < 5, "prices follow the words exactly: " + words);
        assertTrue(Files.exists(dir.resolve("charts/scatter-bag-of-words-linear-regression.png")));

        assertTrue(Files.exists(dir.resolve("home/eval/shop-test/bag-of-words-linear-regression.json")), "kept for the leaderboard");
        Result table = run("eval", "--data", dir.toString(), "--baselines", "--size", "30", "--out", dir.resolve("charts").toString(),
                "--home", dir.resolve("home").toString());
        String t = table.out();
        assertTrue(t.indexOf("bag of words") < t.indexOf("constant") && t.indexOf("constant") < t.indexOf("random"), "best first: " + t);
    }

    @Test
    void badInputGetsOneLineErrors(@TempDir Path dir) {
        Result nothing = run("eval", "--data", dir.toString());
        assertEquals(1, nothing.code());
        assertTrue(nothing.err().contains("nothing to evaluate"), nothing.err());
        Result noSize = run("eval", "--data", dir.toString(), "--baselines", "--size", "-3");
        assertEquals(1, noSize.code());
        assertTrue(noSize.err().contains("--size must be at least 1, not -3"), noSize.err());
        Result noSplit = run("eval", "--data", dir.toString(), "--baselines");
        assertTrue(noSplit.err().contains("no files of split 'test'"), noSplit.err());
        Result noText = run("predict", "--model", "a/b", "--hub-store", dir.toString());
        assertTrue(noText.err().contains("no text to price"), noText.err());
        Result noRepo = run("predict", "--model", "a/b@step-1", "--hub-store", dir.resolve("hub").toString(), "A lamp");
        assertEquals(1, noRepo.code());
        assertTrue(noRepo.err().startsWith("error: ") && noRepo.err().contains("a/b"), noRepo.err());
    }

    /** The tiny Llama fixture with the test tokenizer as a base folder, and its PEFT adapter pushed as a checkpoint. */
    private static Path hubWithCheckpoint(Path dir) throws Exception {
        Path fixtures = Path.of(EvalCommandTest.class.getResource("/hf-tiny-llama/tiny-llama/config.json").toURI()).getParent().getParent();
        Path base = dir.resolve("base");
        Files.createDirectories(base);
        for (String f : List.of("config.json", "model.safetensors")) Files.copy(fixtures.resolve("tiny-llama").resolve(f), base.resolve(f));
        Files.copy(Path.of(EvalCommandTest.class.getResource("/eval/tokenizer.json").toURI()), base.resolve("tokenizer.json"));
        try (var hub = new dev.pricer.hub.LocalHub(dev.pricer.hub.Hubs.local(dir.resolve("hub")), "trainer")) {
            var repo = dev.pricer.hub.RepoId.model("shop/shop-run1");
            hub.ensureRepo(repo, false);
            var commit = hub.push(repo, dev.pricer.hub.Push.directory(fixtures.resolve("tiny-llama-lora"), "step 5"));
            hub.tag(repo, "step-5", commit.sha());
        }
        return base;
    }

    @Test
    void predictAndEvaluateOnAnNf4Base(@TempDir Path dir) throws Exception {
        Path base = hubWithCheckpoint(dir);
        split(dir.resolve("test.jsonl"), 4, 3);
        String[] common = {"--base", base.toString(), "--hub-store", dir.resolve("hub").toString(), "--home", dir.resolve("home").toString(),
                "--quantize", "nf4"};
        Result p = run(concat(new String[]{"predict", "--model", "shop/shop-run1@step-5", "--json", "A lamp", "A desk"}, common));
        assertEquals(0, p.code(), p.err());
        assertEquals(2, JsonMapper.builder().build().readTree(p.out()).get("predictions").size());
        assertTrue(p.err().contains("pricing: 2 of 2 (100%) texts"), "the bar on stderr, the JSON alone on stdout: " + p.err());
        Result e = run(concat(new String[]{"eval", "--model", "shop/shop-run1", "--data", dir.toString(), "--out", dir.resolve("charts").toString(), "--json"}, common));
        assertEquals(0, e.code(), e.err());
        Result bad = run("predict", "--model", "shop/shop-run1@step-5", "--base", base.toString(), "--hub-store", dir.resolve("hub").toString(),
                "--home", dir.resolve("home").toString(), "--quantize", "int8", "A lamp");
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("quantize = int8"), bad.err());
    }

    /** The base model and the tuned one share one backend: on a machine without a GPU, the fall-back is said once. */
    @Test
    void theBaseAndTheTunedModelShareOneBackend(@TempDir Path dir) throws Exception {
        Path base = hubWithCheckpoint(dir);
        split(dir.resolve("train.jsonl"), 40, 5);
        split(dir.resolve("test.jsonl"), 4, 3);
        Result e = run("eval", "--model", "shop/shop-run1", "--baselines", "--data", dir.toString(), "--out", dir.resolve("charts").toString(),
                "--base", base.toString(), "--hub-store", dir.resolve("hub").toString(), "--home", dir.resolve("home").toString(), "--json");
        assertEquals(0, e.code(), e.err());
        JsonNode reports = JsonMapper.builder().build().readTree(e.out()).get("reports");
        assertTrue(reports.toString().contains("base model (no adapter)") && reports.toString().contains("shop/shop-run1"), reports.toString());
        assertTrue(e.err().contains("pricing with base model (no adapter): 4 of 4 (100%) items")
                && e.err().contains("pricing with shop/shop-run1@"), "a bar of the items each model priced: " + e.err());
        if (!dev.pricer.cli.device.DeviceOptionsTest.gpuUsable()) {
            assertEquals(1, e.err().split("running on the CPU", -1).length - 1, e.err());
        }
    }

    @Test
    void predictAndEvaluateACheckpointFromTheHub(@TempDir Path dir) throws Exception {
        Path base = hubWithCheckpoint(dir);
        split(dir.resolve("test.jsonl"), 6, 3);
        String[] common = {"--base", base.toString(), "--hub-store", dir.resolve("hub").toString(), "--home", dir.resolve("home").toString()};
        Result p = run(concat(new String[]{"predict", "--model", "shop/shop-run1@step-5", "--json", "A lamp", "Oak desk"}, common));
        assertEquals(0, p.code(), p.err());
        JsonNode predictions = JsonMapper.builder().build().readTree(p.out()).get("predictions");
        assertEquals(2, predictions.size());
        for (JsonNode n : predictions) {
            assertTrue(n.get("price").isNumber() && n.get("miss").isBoolean(), n.toString());
            if (n.get("miss").asBoolean()) assertEquals(0, n.get("price").asDouble(), "a miss guesses 0");
        }
        try (var cached = Files.list(dir.resolve("home/cache/models/shop/shop-run1"))) {
            assertEquals(1, cached.count(), "the checkpoint is cached by sha");
        }

        if (!dev.pricer.cli.device.DeviceOptionsTest.gpuUsable()) {
            for (String[] command : List.of(new String[]{"predict", "A lamp"}, new String[]{"eval", "--data", dir.toString()})) {
                Result onCuda = run(concat(concat(command, new String[]{"--model", "shop/shop-run1@step-5", "--device", "cuda"}), common));
                assertEquals(1, onCuda.code(), command[0] + ": " + onCuda.err());
                assertTrue(onCuda.err().startsWith("error: --device cuda: CUDA is not available"), command[0] + ": " + onCuda.err());
            }
        }

        Result unknown = run(concat(new String[]{"predict", "--model", "shop/shop-run1@step-9", "A lamp"}, common));
        assertEquals(1, unknown.code());
        assertTrue(unknown.err().contains("unknown revision 'step-9'") && unknown.err().contains("tags step-5"), unknown.err());

        Result empty = run(concat(new String[]{"predict", "--model", "shop/shop-run1", " "}, common));
        assertTrue(empty.err().contains("text 1 is empty"), empty.err());

        Result all = run(concat(new String[]{"eval", "--model", "shop/shop-run1", "--all-revisions", "--data", dir.toString(),
                "--out", dir.resolve("charts").toString(), "--device", "cpu", "--json"}, common));
        assertEquals(0, all.code(), all.err());
        JsonNode doc = JsonMapper.builder().build().readTree(all.out());
        assertEquals(1, doc.get("reports").size());
        assertTrue(doc.get("reports").get(0).get("name").asText().contains("(step 5)"));
        assertTrue(doc.get("notes").get(0).asText().contains("no tracked run"), doc.toString());
        assertTrue(Files.exists(dir.resolve("charts/error-by-step.png")));
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
