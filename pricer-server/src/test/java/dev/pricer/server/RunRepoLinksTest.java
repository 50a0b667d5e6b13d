package dev.pricer.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.hub.CheckpointOrigin;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.LocalHub;
import dev.pricer.hub.Push;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.store.HubStore;
import dev.pricer.server.hub.HubLimits;
import dev.pricer.server.hub.HubModule;
import dev.pricer.server.track.TrackModule;
import dev.pricer.track.Run;
import dev.pricer.track.RunSpec;
import dev.pricer.track.Tracker;
import dev.pricer.track.TrackerOptions;
import dev.pricer.track.store.TrackStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The links between a tracked run and its hub repository, as the trainer makes them (config hub.repo on the run,
 * Step/Run trailers and step-N tags on the commits): in the hub API's JSON, and clicked through in Chromium.
 */
class RunRepoLinksTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final RepoId REPO = RepoId.model("links/links-first");

    @TempDir
    static Path home;
    static TrackStore store;
    static HubStore hub;
    static PricerServer server;
    static Tracker tracker;
    static Run run;
    static final List<CommitInfo> commits = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        tracker = Tracker.open(TrackerOptions.local(home).withSystemMetricsEvery(Duration.ZERO));
        run = tracker.start(RunSpec.of("links").withName("first").withConfig(Map.of(CheckpointOrigin.RUN_CONFIG_KEY, REPO.toString())));
        for (int step = 1; step <= 30; step++) run.log(step, Map.of("train/loss", 3.0 / step));
        run.finish();
        hub = Hubs.local(home.resolve("hub"));
        try (LocalHub local = new LocalHub(hub, "trainer")) {
            local.ensureRepo(REPO, false);
            for (int step : new int[]{10, 20}) {
                CheckpointOrigin origin = new CheckpointOrigin(step, run.id());
                CommitInfo commit = local.push(REPO, Push.files(Map.of("adapter.bin", Files.writeString(home.resolve("w" + step), "weights " + step)),
                        origin.message("step " + step)));
                local.tag(REPO, origin.tag(), commit.sha());
                commits.add(commit);
            }
            String card = "---\nbase_model: links/base\nlibrary_name: peft\n---\n# links-first\n\nnotes\n";
            local.push(REPO, Push.files(Map.of("README.md", Files.writeString(home.resolve("readme"), card),
                    "adapter_config.json", Files.writeString(home.resolve("adapter"), "{}")), "a model card, no checkpoint"));
        }
        store = TrackStore.openHome(home);
        Access access = new Access(store, true);
        server = PricerServer.start("127.0.0.1", 0, List.of(new TrackModule(store, access), new HubModule(hub, access, HubLimits.DEFAULT)));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (store != null) store.close();
        if (hub != null) hub.close();
        if (tracker != null) tracker.close();
    }

    private static String base() {
        return "http://127.0.0.1:" + server.port();
    }

    private static JsonNode get(String path) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base() + path)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), path + ": " + response.body());
            return JSON.readTree(response.body());
        }
    }

    @Test
    void theHubApiGivesEachCheckpointCommitItsStepAndRun() throws Exception {
        JsonNode history = get("/api/models/" + REPO + "/commits/main");
        assertEquals(3, history.size());
        assertFalse(history.get(0).has("step"), "a commit that saved no step has none");
        assertEquals(20, history.get(1).get("step").asInt());
        assertEquals(run.id(), history.get(1).get("run").asText());
        assertEquals(10, history.get(2).get("step").asInt());
        JsonNode commit = get("/api/hub/changes/models/" + REPO + "/" + commits.getFirst().sha());
        assertEquals(10, commit.get("step").asInt());
        assertEquals(run.id(), commit.get("run").asText());
        assertEquals("step-10", commit.get("tags").get(0).asText());
        assertEquals(REPO.toString(), get("/api/track/runs/" + run.id()).get("config").get(CheckpointOrigin.RUN_CONFIG_KEY).asText());
    }

    /** Headless Chromium; the test is skipped where it is not installed. */
    private static ChromeDriver browser() {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "chromium and chromium-driver are not installed (.ci/run installs them with apt-get)");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1200");
        return new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build(), options);
    }

    /** The repository page opens on its model card, with how to use that very revision; a revision without a card says so. */
    @Test
    void inTheBrowserTheRepositoryPageShowsTheModelCardAndHowToUseTheRevision() throws Exception {
        ChromeDriver browser = browser();
        try {
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
            String page = base() + "/hub/repo.html?type=models&repo=" + REPO.namespace() + "%2F" + REPO.name();
            String head = get("/api/models/" + REPO + "/revision/main").get("sha").asText();
            browser.get(page);
            wait.until(d -> !d.findElements(By.cssSelector("#card-text h1")).isEmpty());
            assertEquals("links-first", browser.findElement(By.cssSelector("#card-text h1")).getText());
            assertEquals("flex", browser.executeScript("return getComputedStyle(document.querySelector('nav.pricer-nav')).display"),
                    "the navigation bar is styled on the hub's pages too");
            assertTrue(browser.findElement(By.id("card-meta")).getText().contains("base_model: links/base"), browser.findElement(By.id("card-meta")).getText());
            assertTrue(browser.findElement(By.linkText("links/base")).getAttribute("href").endsWith("repo.html?type=models&repo=links%2Fbase"),
                    "the base model links to its page");
            String use = browser.findElement(By.id("use-snippets")).getText();
            assertTrue(use.contains("pricer predict --model " + REPO + "@" + head.substring(0, 7)), use);
            assertTrue(use.contains("AutoPeftModelForCausalLM.from_pretrained(\"" + REPO + "\", revision=\"" + head + "\")"), use);
            assertFalse(browser.findElement(By.id("try")).isDisplayed(), "no Try it box where the server does not price texts");

            browser.get(page + "&rev=step-10");
            wait.until(d -> !d.findElements(By.id("no-card")).isEmpty());
            String plain = browser.findElement(By.id("use-snippets")).getText();
            assertTrue(plain.startsWith("pricer hub download " + REPO + "@" + commits.getFirst().sha().substring(0, 7)) && !plain.contains("predict"), plain);
        } finally {
            browser.quit();
        }
    }

    /**
     * A checkpoint that holds the optimizer state offers the resume command; the Settings tab deletes the repository
     * once its name is typed, as the Hub's does.
     */
    @Test
    void inTheBrowserACheckpointOffersResumingAndSettingsDeleteTheRepository() throws Exception {
        RepoId doomed = RepoId.model("links/doomed");
        String sha;
        try (LocalHub local = new LocalHub(hub, "trainer")) {
            local.ensureRepo(doomed, false);
            sha = local.push(doomed, Push.files(Map.of("adapter_config.json", Files.writeString(home.resolve("doomed-config"), "{}"),
                    "optimizer.safetensors", Files.writeString(home.resolve("doomed-optimizer"), "moments")), "step 4")).sha();
        }
        ChromeDriver browser = browser();
        try {
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
            String page = base() + "/hub/repo.html?type=models&repo=" + doomed.namespace() + "%2F" + doomed.name();
            browser.get(page);
            wait.until(d -> !d.findElements(By.id("use-snippets")).isEmpty());
            String use = browser.findElement(By.id("use-snippets")).getText();
            assertTrue(use.contains("pricer train --resume " + doomed + "@" + sha.substring(0, 7) + " --data train.jsonl"), use);

            browser.get(page + "&tab=settings");
            wait.until(d -> d.findElement(By.id("visibility-go")).getText().equals("Make private"));
            browser.findElement(By.id("visibility-go")).click();
            wait.until(d -> d.findElement(By.id("visibility-go")).getText().equals("Make public"));
            assertTrue(hub.repoInfo(doomed).orElseThrow().isPrivate());
            assertTrue(browser.findElement(By.id("visibility")).getText().startsWith("Private"));
            WebElement name = wait.until(d -> d.findElement(By.id("delete-name")));
            WebElement go = browser.findElement(By.id("delete-go"));
            name.sendKeys("links/doome");
            assertFalse(go.isEnabled(), "not until the whole name is typed");
            name.sendKeys("d");
            assertTrue(go.isEnabled());
            go.click();
            wait.until(d -> d.getCurrentUrl().endsWith("/hub/index.html"));
            assertTrue(hub.repoInfo(doomed).isEmpty());
            assertTrue(hub.repoInfo(REPO).isPresent());
        } finally {
            browser.quit();
        }
    }

    /** A dataset repository's page: its card named so, how to train on it, and the viewer paging through a split. */
    @Test
    void inTheBrowserADatasetShowsItsRowsAndHowToTrainOnIt() throws Exception {
        RepoId prices = RepoId.parse("datasets/links/prices");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 25; i++) lines.append("{\"text\":\"item ").append(i).append("\",\"price\":").append(i).append("}\n");
        String sha;
        try (LocalHub local = new LocalHub(hub, "curator")) {
            local.ensureRepo(prices, false);
            sha = local.push(prices, Push.files(Map.of("data/train-00000-of-00001.jsonl", Files.writeString(home.resolve("prices-train"), lines.toString()),
                    "data/test-00000-of-00001.jsonl", Files.writeString(home.resolve("prices-test"), "{\"text\":\"held out\",\"price\":1}\n")),
                    "splits")).sha();
        }
        ChromeDriver browser = browser();
        try {
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
            String page = base() + "/hub/repo.html?type=datasets&repo=links%2Fprices";
            browser.get(page);
            wait.until(d -> !d.findElements(By.id("use-snippets")).isEmpty());
            assertEquals("Dataset card", browser.findElement(By.id("tab-card")).getText());
            String use = browser.findElement(By.id("use-snippets")).getText();
            assertTrue(use.contains("pricer train --data datasets/links/prices@" + sha.substring(0, 7)), use);
            assertTrue(use.contains("load_dataset(\"links/prices\", revision=\"" + sha + "\")"), use);

            browser.findElement(By.id("tab-viewer")).click();
            wait.until(d -> d.findElements(By.cssSelector("#viewer-rows tr")).size() == 20);
            assertEquals("rows 0 to 19 of 25", browser.findElement(By.id("viewer-range")).getText());
            assertEquals("# text price", browser.findElement(By.id("viewer-head")).getText());
            assertFalse(browser.findElement(By.id("viewer-previous")).isEnabled());
            browser.findElement(By.id("viewer-next")).click();
            wait.until(d -> d.findElement(By.id("viewer-range")).getText().equals("rows 20 to 24 of 25"));
            assertEquals("20 item 20 20", browser.findElement(By.cssSelector("#viewer-rows tr")).getText().replace('\n', ' '));
            new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("viewer-split"))).selectByVisibleText("test");
            wait.until(d -> d.findElement(By.id("viewer-range")).getText().equals("rows 0 to 0 of 1"));
            assertEquals("0 held out 1", browser.findElement(By.cssSelector("#viewer-rows tr")).getText().replace('\n', ' '));
        } finally {
            browser.quit();
        }
    }

    /** The repositories page narrows to the names typed, as one repository per run makes many. */
    @Test
    void inTheBrowserTheRepositoryListFiltersByName() throws Exception {
        try (LocalHub local = new LocalHub(hub, "trainer")) {
            for (String name : List.of("filter/alpha-run", "filter/beta-run")) local.ensureRepo(RepoId.model(name), false);
        }
        ChromeDriver browser = browser();
        try {
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
            browser.get(base() + "/hub/index.html");
            wait.until(d -> !d.findElements(By.linkText("filter/beta-run")).isEmpty());
            int all = browser.findElements(By.cssSelector("#repos tr")).size();
            browser.findElement(By.id("filter")).sendKeys("ALPHA");
            wait.until(d -> d.findElement(By.id("shown")).getText().equals("1 of " + all));
            List<String> visible = browser.findElements(By.cssSelector("#repos tr")).stream().filter(WebElement::isDisplayed)
                    .map(row -> row.findElement(By.tagName("a")).getText()).toList();
            assertEquals(List.of("filter/alpha-run"), visible);
        } finally {
            browser.quit();
        }
    }

    @Test
    void inTheBrowserRunAndRepositoryAndCommitAndStepLinkBothWays() {
        ChromeDriver browser = browser();
        try {
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
            browser.get(base() + "/runs/" + run.id());
            wait.until(d -> d.findElements(By.cssSelector("#checkpoints tbody tr")).size() == 2);
            assertEquals(List.of("10", "20"), browser.findElements(By.cssSelector("#checkpoints tbody tr td:first-child")).stream().map(e -> e.getText()).toList());

            // run -> repository -> (its run link) -> back to the run
            browser.findElement(By.id("hub-repo")).click();
            wait.until(d -> d.getCurrentUrl().contains("/hub/repo.html"));
            wait.until(d -> !d.findElements(By.id("run-link")).isEmpty() && d.findElement(By.id("run-link")).getText().equals("first"));
            assertTrue(browser.getCurrentUrl().contains("repo=" + REPO.namespace() + "%2F" + REPO.name()), browser.getCurrentUrl());

            // repository history -> the step a commit saved -> the run page, that step marked
            browser.get(base() + "/hub/repo.html?type=models&repo=" + REPO.namespace() + "%2F" + REPO.name() + "&tab=history");
            wait.until(d -> d.findElements(By.cssSelector("a.step-link")).size() == 2);
            browser.findElement(By.cssSelector("tr[data-commit='" + commits.getFirst().sha() + "'] a.step-link")).click();
            wait.until(d -> d.getCurrentUrl().endsWith("/runs/" + run.id() + "?step=10"));
            wait.until(d -> Long.valueOf(10).equals(((JavascriptExecutor) d).executeScript(
                    "const c = window.pricerCharts && window.pricerCharts['train/loss']; return c && c.u ? c.markedX : null;")));
            wait.until(d -> !d.findElements(By.cssSelector("#checkpoints tr.marked[data-step='10']")).isEmpty());

            // run page -> a checkpoint's commit page -> its step -> the run again
            browser.findElement(By.cssSelector("#checkpoints tr[data-step='20'] a.commit-link")).click();
            wait.until(d -> d.getCurrentUrl().contains("/hub/commit.html") && !d.findElements(By.cssSelector("#meta a.step-link")).isEmpty());
            assertTrue(browser.findElement(By.id("meta")).getText().contains("step 20"), browser.findElement(By.id("meta")).getText());
            browser.findElement(By.cssSelector("#meta a.step-link")).click();
            wait.until(d -> d.getCurrentUrl().endsWith("/runs/" + run.id() + "?step=20"));
        } finally {
            browser.quit();
        }
    }
}
