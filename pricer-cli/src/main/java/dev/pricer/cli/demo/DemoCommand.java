package dev.pricer.cli.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pricer.cli.PricerCommand;
import dev.pricer.cli.train.HubCheckpoints;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.config.RopeScaling;
import dev.pricer.data.Item;
import dev.pricer.data.Prompts;
import dev.pricer.data.curate.CurationConfig;
import dev.pricer.data.curate.TextBuilder;
import dev.pricer.data.synth.CatalogGenerator;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.LocalHub;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.Push;
import dev.pricer.hub.RepoId;
import dev.pricer.track.TrackerOptions;
import dev.pricer.train.checkpoint.CheckpointStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code pricer demo}: the whole workflow on a small scale, from nothing. A synthetic catalog, curated; a small
 * tokenizer and a small Llama trained from scratch on the catalog's text (a tracked run), published as the
 * base model's hub repository; a LoRA fine-tune of that base on the price prompts (a tracked run with eval
 * loss, each checkpoint a commit); the Tester on every checkpoint against the baselines; then the dashboard.
 * Each step leaves a mark under {@code PRICER_HOME/demo/done} once complete, so a rerun skips what is built and
 * a stopped training resumes from its last checkpoint.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train, track, version and evaluate a small price model from nothing, then serve the dashboard.",
                "Everything goes under $PRICER_HOME (default ~/.pricer); a rerun reuses what is already built."})
public final class DemoCommand implements Callable<Integer> {

    public static final String PROJECT = "demo";
    public static final String BASE_RUN = "base";
    public static final String LORA_RUN = "lora";
    public static final RepoId BASE_REPO = RepoId.model(PROJECT + "/tiny-llama-base");

    @Option(names = "--home", description = "Pricer home (default: $PRICER_HOME, else ~/.pricer)")
    Path home;

    @Option(names = "--items", defaultValue = "4000", description = "catalog items to generate (default: ${DEFAULT-VALUE})")
    int items;

    @Option(names = "--test-size", defaultValue = "200", description = "items held out for the Tester (default: ${DEFAULT-VALUE})")
    int testSize;

    @Option(names = "--max-tokens", defaultValue = "48", description = "a product text is cut to this many tokens (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--hidden", defaultValue = "128", description = "hidden size of the base model (default: ${DEFAULT-VALUE})")
    int hidden;

    @Option(names = "--layers", defaultValue = "2", description = "layers of the base model (default: ${DEFAULT-VALUE})")
    int layers;

    @Option(names = "--base-epochs", defaultValue = "4", description = "passes over the catalog text for the base (default: ${DEFAULT-VALUE})")
    String baseEpochs;

    @Option(names = "--lora-epochs", defaultValue = "1", description = "passes over the price prompts for LoRA (default: ${DEFAULT-VALUE})")
    String loraEpochs;

    @Option(names = "--save-steps", defaultValue = "200", description = "LoRA checkpoint (and commit) every this many steps (default: ${DEFAULT-VALUE})")
    int saveSteps;

    @Option(names = "--port", defaultValue = "5050", description = "dashboard port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--no-serve", description = "stop after the evaluation instead of starting the server")
    boolean noServe;

    private Path demo;
    private int step;
    private static final int STEPS = 8;
    private static final int INTERRUPTED = 130;
    private static final long SEED = 42;
    /** How the catalog lists a price, after an item's text in the base's corpus. */
    private static final String PRICE_LINE = "\nPrice: $";

    @Override
    public Integer call() throws Exception {
        try {
            return demo();
        } catch (Stopped e) {
            say("stopped; run ./pricer demo again to continue from the last checkpoint");
            return INTERRUPTED;
        }
    }

    private int demo() throws Exception {
        Path pricerHome = (home != null ? home : TrackerOptions.defaultHome()).toAbsolutePath().normalize();
        demo = pricerHome.resolve("demo");
        Path catalog = demo.resolve("catalog.jsonl");
        Path initDir = demo.resolve("base-init");
        Path curated = demo.resolve("curated");
        Path corpus = demo.resolve("corpus.jsonl");
        Path evalDir = demo.resolve("eval");
        String h = pricerHome.toString();

        if (begin("catalog", "generate a synthetic catalog of " + items + " items")) {
            new CatalogGenerator(SEED).write(catalog, items, n -> { });
            done("catalog");
        }
        if (begin("tokenizer", "make a word-level tokenizer and the base model's architecture")) {
            List<String> texts = curatedTexts(new CatalogGenerator(SEED).items(items));
            int vocab = WordTokenizer.write(texts, 2, initDir.resolve("tokenizer.json"));
            writeConfig(initDir, vocab);
            say("vocabulary of %d tokens; Llama with hidden %d, %d layers".formatted(vocab, hidden, layers));
            done("tokenizer");
        }
        if (begin("curate", "curate the catalog into price prompts")) {
            pricer("data", "curate", catalog.toString(), "--tokenizer", initDir.resolve("tokenizer.json").toString(),
                    "-o", curated.toString(), "--min-chars", "100", "--min-tokens", "20", "--max-tokens", Integer.toString(maxTokens),
                    "--no-balance", "--test-size", Integer.toString(testSize), "--train-size", Integer.toString(items));
            writeCorpus(curated.resolve("train.jsonl"), corpus);
            done("curate");
        }
        if (begin("pretrain", "train the base model from scratch on the catalog's listings (tracked run " + PROJECT + "/" + BASE_RUN + ")")) {
            train(h, BASE_RUN, List.of("--base", initDir.toString(), "--data", corpus.toString(), "--from-scratch", "--use-peft=false",
                    "--response-template", WordTokenizer.BOS, "--num-train-epochs", baseEpochs, "--learning-rate", "3e-3",
                    "--lr-scheduler-type", "cosine", "--warmup-ratio", "0.05", "--per-device-train-batch-size", "16",
                    "--max-seq-length", Integer.toString(maxTokens + 12), "--logging-steps", "5", "--eval-steps", "50",
                    "--save-steps", "100", "--save-total-limit", "2", "--no-push"));
            done("pretrain");
        }
        if (begin("publish", "publish the base model as hub repository " + BASE_REPO)) {
            publishBase(pricerHome, initDir);
            done("publish");
        }
        if (begin("finetune", "fine-tune the base with LoRA on the prices (tracked run " + PROJECT + "/" + LORA_RUN
                + ", a commit to " + HubCheckpoints.repoOf(PROJECT, LORA_RUN) + " every " + saveSteps + " steps)")) {
            // From the hub, so that the adapter names its base by repository and commit, and eval finds it by that name.
            train(h, LORA_RUN, List.of("--base", BASE_REPO.toString(), "--data", curated.resolve("train.jsonl").toString(),
                    "--num-train-epochs", loraEpochs, "--learning-rate", "2e-3", "--lr-scheduler-type", "cosine",
                    "--warmup-ratio", "0.03", "--per-device-train-batch-size", "8", "--lora-r", "16", "--lora-alpha", "32",
                    "--lora-dropout", "0.05", "--lora-target-modules", "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
                    "--max-seq-length", Integer.toString(maxTokens + 40), "--logging-steps", "5", "--eval-steps", "50",
                    "--save-steps", Integer.toString(saveSteps)));
            done("finetune");
        }
        if (begin("evaluate", "evaluate every checkpoint with the Tester, against the baselines")) {
            Files.createDirectories(evalDir);
            String json = pricerOut("eval", "--model", HubCheckpoints.repoOf(PROJECT, LORA_RUN).toString(), "--all-revisions",
                    "--data", curated.toString(), "--size", Integer.toString(testSize), "--baselines",
                    "--out", evalDir.toString(), "--home", h, "--hub-store", pricerHome.resolve("hub").toString(),
                    "--dataset", PROJECT, "--json");
            Files.writeString(evalDir.resolve("report.json"), json);
            done("evaluate");
        }
        printReport(evalDir.resolve("report.json"));
        if (noServe) {
            say("done; see it with: ./pricer server --home " + h + "   (then open http://127.0.0.1:" + port + "/)");
            return 0;
        }
        say("[%d/%d] dashboard: http://127.0.0.1:%d/  (runs: project %s; hub: /hub/index.html; results: /eval)  Ctrl-C stops it"
                .formatted(STEPS, STEPS, port, PROJECT));
        return pricer("server", "--home", h, "--port", Integer.toString(port));
    }

    private boolean begin(String name, String what) {
        step++;
        boolean skip = Files.exists(demo.resolve("done").resolve(name));
        say("[%d/%d] %s%s".formatted(step, STEPS, what, skip ? ": already done" : ""));
        return !skip;
    }

    private void done(String name) throws IOException {
        Files.createDirectories(demo.resolve("done"));
        Files.writeString(demo.resolve("done").resolve(name), java.time.Instant.now() + "\n");
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    /** A training run; one that was stopped part-way resumes from its latest checkpoint. */
    private void train(String pricerHome, String run, List<String> options) throws IOException {
        List<String> args = new ArrayList<>(List.of("train", "--home", pricerHome, "--project", PROJECT, "--name", run));
        Path runDir = Path.of(pricerHome, "runs", PROJECT, run);
        if (new CheckpointStore(runDir).latest().isPresent()) {
            say("resuming run " + PROJECT + "/" + run + " from its latest checkpoint");
            args.add("--resume");
        }
        args.addAll(options);
        int code = PricerCommand.create().execute(args.toArray(String[]::new));
        if (code == INTERRUPTED) throw new Stopped();
        if (code != 0) throw new IllegalStateException("pricer " + String.join(" ", args) + " failed with exit code " + code);
    }

    /** Training was stopped (Ctrl-C) after saving a checkpoint; a rerun continues from it. */
    private static final class Stopped extends RuntimeException {
    }

    private static int pricer(String... args) {
        int code = PricerCommand.create().execute(args);
        if (code != 0) throw new IllegalStateException("pricer " + String.join(" ", args) + " failed with exit code " + code);
        return code;
    }

    private static String pricerOut(String... args) {
        StringWriter out = new StringWriter();
        CommandLine cli = PricerCommand.create();
        cli.setOut(new PrintWriter(out, true));
        int code = cli.execute(args);
        if (code != 0) throw new IllegalStateException("pricer " + String.join(" ", args) + " failed with exit code " + code);
        return out.toString();
    }

    private static HubClient hub(Path pricerHome) {
        return new LocalHub(Hubs.local(pricerHome.resolve("hub")), System.getenv().getOrDefault("PRICER_USER", "pricer"));
    }

    /**
     * The texts the tokenizer will meet: each item's text as curation builds it (title, then the scrubbed
     * description, features and details, whose joins make pieces the raw strings lack), and the prompt's words.
     */
    private static List<String> curatedTexts(List<Item> items) {
        TextBuilder builder = new TextBuilder(CurationConfig.course());
        List<String> texts = new ArrayList<>(items.size() + 1);
        for (Item item : items) texts.add(builder.text(item.title(), builder.contents(item)) + PRICE_LINE);
        texts.add(Prompts.training("", 0));
        return texts;
    }

    private void writeConfig(Path dir, int vocab) throws IOException {
        int heads = Math.max(1, hidden / 32);
        LlamaConfig config = new LlamaConfig(vocab, hidden, hidden * 8 / 3 / 8 * 8, layers, heads, Math.max(1, heads / 2), hidden / heads,
                1e-5, 10000.0, new RopeScaling.None(), 512, true, 0, List.of(1));
        Files.writeString(dir.resolve("config.json"), config.toJson().toPrettyString());
    }

    /**
     * The catalog text the base learns the language from: each training item's text and its listed price, as a
     * general model reads product listings, numbers and all. The held-out test items are not in it. The prices are
     * what give the number tokens their meaning (which number is near which), as they have in Llama 3; without
     * them, the tokens the fine-tune must answer with would be ones the base never met.
     */
    private static void writeCorpus(Path train, Path corpus) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(train)) {
            if (line.isBlank()) continue;
            ObjectNode example = json.createObjectNode();
            example.put("prompt", "");
            JsonNode item = json.readTree(line);
            String text = item.get("text").asText();
            text += PRICE_LINE + String.format(java.util.Locale.ROOT, "%.2f", item.get("price").asDouble());
            example.put("completion", text);
            out.add(json.writeValueAsString(example));
        }
        Path tmp = corpus.resolveSibling(corpus.getFileName() + ".tmp");
        Files.write(tmp, out);
        Files.move(tmp, corpus, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** The base run's final weights, its tokenizer and a card saying where they come from, as one commit. */
    private static void publishBase(Path pricerHome, Path initDir) throws IOException {
        Path runDir = pricerHome.resolve("runs").resolve(PROJECT).resolve(BASE_RUN);
        var last = new CheckpointStore(runDir).latest().orElseThrow(() -> new IllegalStateException("no checkpoint in " + runDir));
        String runId = Files.readString(runDir.resolve("tracked-run-id")).strip();
        Path card = Files.createTempFile("README", ".md");
        Files.writeString(card, """
                ---
                library_name: pricer
                pipeline_tag: text-generation
                ---
                # tiny-llama-base

                A small Llama trained from scratch by `pricer demo`: every weight started random (std 0.02, seed 42) and was
                trained on the listings of a synthetic product catalog (`pricer data generate`, seed 42): the text and listed
                price of each training item; the test items were held out.
                Tracked run: project `%s`, run `%s` (id `%s`), %d optimizer steps. Tokenizer: word level, made from the
                same catalog, numbers 0-999 as single tokens.
                """.formatted(PROJECT, BASE_RUN, runId, last.step()));
        Map<String, Path> files = new LinkedHashMap<>();
        files.put("config.json", last.file("config.json"));
        files.put("model.safetensors", last.file("model.safetensors"));
        files.put("tokenizer.json", initDir.resolve("tokenizer.json"));
        files.put("README.md", card);
        try (HubClient hub = hub(pricerHome)) {
            hub.ensureRepo(BASE_REPO, false);
            hub.push(BASE_REPO, Push.files(files, "tiny-llama-base from run " + PROJECT + "/" + BASE_RUN + " step " + last.step()));
        } finally {
            Files.deleteIfExists(card);
        }
    }

    private static void printReport(Path report) throws IOException {
        JsonNode doc = new ObjectMapper().readTree(report.toFile());
        say("price error on the test items (lower is better):");
        for (JsonNode r : doc.path("reports")) {
            say("  %-44s average error $%8.2f   RMSLE %.2f   hits %5.1f%%".formatted(
                    r.path("name").asText(), r.path("average_error").asDouble(), r.path("rmsle").asDouble(), r.path("hits").asDouble()));
        }
        say("charts: " + report.getParent());
    }
}
