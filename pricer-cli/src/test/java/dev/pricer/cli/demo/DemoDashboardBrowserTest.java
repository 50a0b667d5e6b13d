package dev.pricer.cli.demo;

import dev.pricer.cli.server.ServerCommand;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.LocalHub;
import dev.pricer.hub.RepoId;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunQuery;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * After the demo ({@link DemoHome}), the dashboard as a newcomer opens it, in Debian's headless Chromium
 * (installed by .ci/run; skipped only where it is not installed): both runs, each run's charts drawn from its
 * metrics, and the fine-tune's repository with a commit per checkpoint.
 */
class DemoDashboardBrowserTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    private static final List<String> RUN_CHARTS = List.of("train/loss", "eval/loss", "train/learning_rate");

    static DemoHome demo;
    static ServerCommand.Running server;
    static ChromeDriver browser;
    static String uri;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "chromium and chromium-driver are not installed (.ci/run installs them with apt-get)");
        demo = DemoHome.get();
        server = ServerCommand.start("127.0.0.1", 0, demo.home(), false, CpuBackend::new);
        uri = "http://127.0.0.1:" + server.server().port();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1200");
        browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build(), options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.quit();
        if (server != null) server.close();
    }

    private Object js(String script, Object... args) {
        return ((JavascriptExecutor) browser).executeScript(script, args);
    }

    private void until(String what, BooleanSupplier condition) {
        new WebDriverWait(browser, Duration.ofSeconds(30)).withMessage(what).until(d -> condition.getAsBoolean());
    }

    /** The values a chart drew, or -1 before it has drawn. */
    private long drawn(String key) {
        return (Long) js("const c = window.pricerCharts && window.pricerCharts[arguments[0]]; return c && c.u ? c.pointCount() : -1;", key);
    }

    private Map<String, RunInfo> runs() {
        return server.store().runs(RunQuery.project(DemoCommand.PROJECT)).stream().collect(Collectors.toMap(RunInfo::name, r -> r));
    }

    @Test
    void theProjectPageListsBothRunsAndOverlaysTheirLoss() {
        Map<String, RunInfo> runs = runs();
        assertEquals(java.util.Set.of(DemoCommand.BASE_RUN, DemoCommand.LORA_RUN), runs.keySet());
        browser.get(uri + "/projects/" + DemoCommand.PROJECT);
        for (RunInfo run : runs.values()) {
            until("the runs table lists " + run.name(), () -> browser.findElements(By.cssSelector("tr[data-run='" + run.id() + "'] td.run-name a")).size() == 1);
            assertEquals(run.name(), browser.findElement(By.cssSelector("tr[data-run='" + run.id() + "'] td.run-name a")).getText());
        }
        long logged = runs.values().stream().mapToLong(r -> server.store().history(r.id(), "train/loss", 0, 100_000).size()).sum();
        until("the loss chart draws both runs' " + logged + " values", () -> drawn("train/loss") == logged);
        @SuppressWarnings("unchecked")
        List<String> series = (List<String>) js("return window.pricerCharts['train/loss'].u.series.slice(1).map(s => s.label);");
        assertTrue(series.containsAll(List.of(DemoCommand.BASE_RUN, DemoCommand.LORA_RUN)), series.toString());
    }

    @Test
    void eachRunPageDrawsItsLossEvalLossAndLearningRate() {
        for (RunInfo run : runs().values()) {
            browser.get(uri + "/runs/" + run.id());
            for (String key : RUN_CHARTS) {
                int logged = server.store().history(run.id(), key, 0, 100_000).size();
                assertTrue(logged > 0, run.name() + " logged " + key);
                until(run.name() + ": the " + key + " chart draws its " + logged + " values", () -> drawn(key) == logged);
                WebElement canvas = browser.findElement(By.cssSelector(".chart[data-key='" + key + "'] canvas"));
                assertTrue(canvas.getSize().getWidth() > 100 && canvas.getSize().getHeight() > 50, run.name() + " " + key + " canvas " + canvas.getSize());
            }
            assertEquals(run.name(), browser.findElement(By.id("name")).getText().replace("✎", "").strip());
        }
    }

    @Test
    void theFineTunesRepositoryListsACommitPerCheckpoint() throws Exception {
        RepoId repo = RepoId.model("demo/demo-lora");
        List<CommitInfo> commits;
        try (HubClient hub = new LocalHub(Hubs.local(demo.home().resolve("hub")), "test")) {
            commits = hub.log(repo, "main", 100);
        }
        long checkpoints;
        try (var dirs = Files.list(demo.home().resolve("runs/demo/lora"))) {
            checkpoints = dirs.filter(d -> d.getFileName().toString().startsWith("checkpoint-")).count();
        }
        assertTrue(checkpoints >= 2, checkpoints + " checkpoints");
        assertEquals(checkpoints, commits.size(), "a commit per checkpoint");
        browser.get(uri + "/hub/repo.html?repo=" + repo + "&tab=history");
        until("the history lists " + commits.size() + " commits", () -> browser.findElements(By.cssSelector("#commit-rows tr")).size() == commits.size());
        String history = browser.findElement(By.id("commit-rows")).getText();
        for (CommitInfo commit : commits) {
            assertTrue(history.contains(commit.sha().substring(0, 7)), "commit " + commit.sha() + " in:\n" + history);
        }
        Object tagged = js("return [...document.querySelectorAll('#commit-rows tr')].filter(r => /step-\\d+/.test(r.cells[0].textContent)).length;");
        assertEquals((long) commits.size(), tagged, "each commit shows its step-N tag:\n" + history);
    }

    /** The fine-tune's page opens on its model card, and its "Try it" box prices a text with that revision on the server. */
    @Test
    void theAdaptersPageShowsItsCardAndPricesAText() {
        browser.get(uri + "/hub/repo.html?repo=demo%2Fdemo-lora");
        until("the model card", () -> !browser.findElements(By.cssSelector("#card-text h1")).isEmpty());
        assertTrue(browser.findElement(By.cssSelector("#card-text h1")).getText().startsWith("Checkpoint at step"),
                browser.findElement(By.cssSelector("#card-text h1")).getText());
        assertTrue(browser.findElement(By.id("card-meta")).getText().contains("base_model: demo/tiny-llama-base"), browser.findElement(By.id("card-meta")).getText());
        until("what pricer eval measured for this revision", () -> browser.findElement(By.id("evaluation")).isDisplayed());
        String evaluation = browser.findElement(By.id("evaluation-rows")).getText();
        assertTrue(evaluation.startsWith("demo $") && evaluation.contains("scatter chart"), evaluation);
        browser.findElement(By.id("try-text")).sendKeys("Oak desk with three drawers, solid wood, brown finish");
        browser.findElement(By.id("try-go")).click();
        until("a price", () -> browser.findElement(By.id("try-out")).getText().matches("\\$[0-9,]+\\.[0-9]{2}|not a number"));
        assertEquals("", browser.findElement(By.id("try-out")).getAttribute("class"), "no error: " + browser.findElement(By.id("try-out")).getText());
    }
}
