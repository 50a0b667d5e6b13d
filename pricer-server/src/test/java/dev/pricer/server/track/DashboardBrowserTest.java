package dev.pricer.server.track;

import dev.pricer.track.Run;
import dev.pricer.track.RunSpec;
import dev.pricer.track.Tracker;
import dev.pricer.track.TrackerOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dashboard in Debian's headless Chromium (installed by .ci/run). The server reads the same local store
 * the runs are written to, as {@code pricer server} does on a training machine.
 */
class DashboardBrowserTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    private static final String HOSTILE = "<img src=x onerror=\"window.pwned=1\"> '; DROP TABLE runs; --";

    @TempDir
    static Path home;
    static ChromeDriver browser;
    static TrackServerFixture fixture;
    static Tracker tracker;
    static Run first;
    static Run second;

    @BeforeAll
    static void start() {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "chromium and chromium-driver are not installed (.ci/run installs them with apt-get)");
        fixture = new TrackServerFixture(home);
        tracker = Tracker.open(TrackerOptions.local(home).withSystemMetricsEvery(Duration.ZERO));
        first = tracker.start(RunSpec.of("browser").withName("first").withConfig(Map.of("lr", 1e-4, "seed", 42)));
        second = tracker.start(RunSpec.of("browser").withName(HOSTILE).withConfig(Map.of("lr", 2e-4, "seed", 42)));
        for (int step = 1; step <= 300; step++) {
            first.log(step, Map.of("train/loss", step == 150 ? Double.NaN : 3.0 / step, "train/epoch", step / 100.0));
            second.log(step, Map.of("train/loss", 2.5 / step, "train/epoch", step / 100.0));
        }
        first.finish();
        second.flush();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1200");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build();
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.quit();
        if (tracker != null) tracker.close();
        if (fixture != null) fixture.close();
    }

    private Object js(String script, Object... args) {
        return ((JavascriptExecutor) browser).executeScript(script, args);
    }

    private void until(String what, java.util.function.BooleanSupplier condition) {
        new WebDriverWait(browser, Duration.ofSeconds(20)).withMessage(what).until(d -> condition.getAsBoolean());
    }

    private long points(String key) {
        return (Long) js("const c = window.pricerCharts && window.pricerCharts[arguments[0]]; return c && c.u ? c.pointCount() : -1;", key);
    }

    /** Opens the runs page and waits for the loss chart; returns how many points it drew. */
    private long openProject() {
        browser.get(fixture.uri() + "/projects/browser");
        until("the loss chart draws both runs", () -> points("train/loss") >= 599);
        return points("train/loss");
    }

    @Test
    void theLossChartOverlaysBothRunsInTheirColoursWithAGapForNaN() {
        openProject();
        @SuppressWarnings("unchecked")
        List<String> strokes = (List<String>) js("return window.pricerCharts['train/loss'].u.series.slice(1).map(s => s.label);");
        assertEquals(List.of("first", HOSTILE), strokes.stream().sorted((a, b) -> a.equals("first") ? -1 : 1).toList());
        Object gap = js("""
                const u = window.pricerCharts['train/loss'].u;
                const idx = u.series.findIndex(s => s.label === 'first');
                return u.data[idx][u.data[0].indexOf(150)];""");
        assertEquals(null, gap, "NaN at step 150 is drawn as a gap");
        assertTrue(browser.findElements(By.cssSelector(".chart[data-key='train/loss'] canvas")).size() == 1);
        assertEquals(null, js("return window.pwned;"), "a run name is never markup");
        WebElement hostileRow = browser.findElement(By.cssSelector("tr[data-run='" + second.id() + "'] td.run-name a"));
        assertEquals(HOSTILE, hostileRow.getText());
        WebElement diff = browser.findElement(By.id("config-diff-table"));
        assertEquals(1, diff.findElements(By.cssSelector("tbody tr")).size(), "only lr differs, seed is the same");
        assertEquals("lr", diff.findElement(By.cssSelector("tbody tr td")).getText());
    }

    /** The filter box narrows the table and the charts to the runs whose name, tag or status holds the words typed. */
    @Test
    void theFilterNarrowsTableAndCharts() {
        long both = openProject();
        WebElement filter = browser.findElement(By.id("filter"));
        filter.sendKeys("FIRST");
        until("one row", () -> browser.findElements(By.cssSelector("#runs tbody tr")).size() == 1);
        until("the chart draws the first run alone", () -> points("train/loss") > 0 && points("train/loss") < both);
        assertEquals("first", browser.findElement(By.cssSelector("#runs tbody tr .run-name a")).getText());
        filter.sendKeys(Keys.chord(Keys.CONTROL, "a"), Keys.BACK_SPACE);
        until("both rows again", () -> browser.findElements(By.cssSelector("#runs tbody tr")).size() == 2);
        until("both runs drawn again", () -> points("train/loss") >= both);
    }

    @Test
    void renameInline() {
        openProject();
        browser.findElement(By.cssSelector("tr[data-run='" + first.id() + "'] .rename-btn")).click();
        WebElement input = browser.findElement(By.cssSelector("tr[data-run='" + first.id() + "'] input.rename"));
        input.sendKeys(Keys.chord(Keys.CONTROL, "a"), "renamed \"run\" <b>", Keys.ENTER);
        until("the store has the new name", () -> fixture.store.requireRun(first.id()).name().equals("renamed \"run\" <b>"));
        until("the table shows it", () -> "renamed \"run\" <b>".equals(js(
                "const a = document.querySelector(\"tr[data-run='\" + arguments[0] + \"'] td.run-name a\"); return a && a.textContent;", first.id())));
    }

    @Test
    void dragZoomsAndDoubleClickResets() {
        long all = openProject();
        WebElement over = browser.findElement(By.cssSelector(".chart[data-key='train/loss'] .u-over"));
        int width = over.getSize().getWidth();
        new Actions(browser).moveToElement(over, -width / 4, 0).clickAndHold().moveByOffset(width / 4, 0).release().perform();
        until("the chart re-queried a step range", () -> (Boolean) js("return window.pricerCharts['train/loss'].range != null;"));
        until("the zoomed data is drawn", () -> {
            Object min = js("const u = window.pricerCharts['train/loss'].u; return u ? u.data[0][0] : null;");
            return min instanceof Number n && n.doubleValue() > 30;
        });
        String query = (String) js("return window.pricerCharts['train/loss'].lastQuery;");
        assertTrue(query.contains("&from=") && query.contains("&to="), query);
        new Actions(browser).doubleClick(browser.findElement(By.cssSelector(".chart[data-key='train/loss'] .u-over"))).perform();
        until("double-click shows the whole history again", () -> points("train/loss") == all);
        assertEquals(Boolean.TRUE, js("return window.pricerCharts['train/loss'].range == null;"));
    }

    @Test
    void aRunningRunUpdatesLive() {
        long before = openProject();
        for (int step = 301; step <= 320; step++) second.log(step, Map.of("train/loss", 2.5 / step));
        second.flush();
        until("the new points arrive over server-sent events", () -> points("train/loss") == before + 20);
    }

    @Test
    void epochAxisAndSmoothingAndLogScale() {
        openProject();
        new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("x-mode"))).selectByValue("epoch");
        until("x is the epoch", () -> {
            Object max = js("const u = window.pricerCharts['train/loss'].u; return u ? Math.max(...u.data[0]) : null;");
            return max instanceof Number n && n.doubleValue() <= 3.2 && n.doubleValue() >= 2.9;
        });
        js("const s = document.getElementById('smoothing'); s.value = '0.9'; s.dispatchEvent(new Event('input'));");
        until("a smoothed line is drawn over the faint raw one", () -> (Boolean) js(
                """
                const c = window.pricerCharts['train/loss'];
                return !!c.u && c.smoothedSeries.length === 2
                    && c.rawSeries.every(i => String(c.u.series[i].stroke()).includes('0.3'));"""));
        browser.findElement(By.id("log-scale")).click();
        until("the y scale is logarithmic", () -> Long.valueOf(3).equals(js(
                "const u = window.pricerCharts['train/loss'].u; return u ? u.scales.y.distr : null;")));
    }

    /** The run page's Delete asks first, refuses a running run in words, and removes a finished one for good. */
    @Test
    void deleteFromTheRunPage() {
        Run doomed = tracker.start(RunSpec.of("browser-delete").withName("doomed"));
        doomed.log(1, Map.of("train/loss", 1.0));
        doomed.finish();
        browser.get(fixture.uri() + "/runs/" + second.id());
        until("the run page", () -> browser.findElement(By.id("name")).getText().contains("DROP TABLE"));
        browser.findElement(By.id("delete-run")).click();
        browser.switchTo().alert().accept();
        until("the refusal of a running run", () -> browser.findElement(By.id("delete-error")).getText().contains("is still running"));
        assertTrue(fixture.store.run(second.id()).isPresent());

        browser.get(fixture.uri() + "/runs/" + doomed.id());
        until("the run page", () -> browser.findElement(By.id("name")).getText().contains("doomed"));
        browser.findElement(By.id("delete-run")).click();
        browser.switchTo().alert().dismiss();
        assertTrue(fixture.store.run(doomed.id()).isPresent(), "a dismissed question deletes nothing");
        browser.findElement(By.id("delete-run")).click();
        browser.switchTo().alert().accept();
        until("back on the project page", () -> browser.getCurrentUrl().endsWith("/projects/browser-delete"));
        assertTrue(fixture.store.run(doomed.id()).isEmpty());
        assertEquals(0, fixture.store.countPoints(doomed.id()));
    }

    /**
     * Each page holds a live-update stream; a page left for the back-forward cache closes it. Kept open, the pages left
     * behind took the six connections the browser opens to a server, and the next page's requests stalled.
     */
    @Test
    void pagesLeftBehindFreeTheirConnections() {
        for (int i = 0; i < 8; i++) {
            Run shown = i % 2 == 0 ? first : second;
            browser.get(fixture.uri() + "/runs/" + shown.id());
            until("run page " + (i + 1) + " draws its loss chart", () -> points("train/loss") >= 299);
        }
    }

    /** Tags are edited on the run page, as W&B's: the store keeps the words given, trimmed, and the page shows them. */
    @Test
    void tagsAreEditedOnTheRunPage() {
        Run tagged = tracker.start(RunSpec.of("browser-tags").withName("tagged").withTags(List.of("lora")));
        tagged.finish();
        browser.get(fixture.uri() + "/runs/" + tagged.id());
        until("the run page", () -> browser.findElement(By.id("tags")).getText().startsWith("lora"));
        browser.findElement(By.cssSelector("#tags button")).click();
        var prompt = browser.switchTo().alert();
        prompt.sendKeys(" best , qlora,, ");
        prompt.accept();
        until("the store has the tags", () -> fixture.store.requireRun(tagged.id()).tags().equals(List.of("best", "qlora")));
        until("the page shows them", () -> browser.findElement(By.id("tags")).getText().startsWith("best, qlora"));
    }

    @Test
    void theRunPageShowsConfigAndCharts() {
        browser.get(fixture.uri() + "/runs/" + second.id());
        until("the run's loss chart", () -> points("train/loss") >= 300);
        assertEquals(HOSTILE, browser.findElement(By.id("name")).getText().replace(" ✎", "").strip());
        assertTrue(browser.findElement(By.id("config")).getText().contains("2.0E-4"));
    }
}
