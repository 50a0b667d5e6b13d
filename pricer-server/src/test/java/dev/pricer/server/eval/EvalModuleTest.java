package dev.pricer.server.eval;

import dev.pricer.eval.results.ResultStore;
import dev.pricer.eval.tester.Report;
import dev.pricer.eval.tester.Scored;
import dev.pricer.server.PricerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvalModuleTest {

    @Test
    void leaderboardPageApiAndCharts(@TempDir Path dir) throws Exception {
        ResultStore store = new ResultStore(dir);
        store.save("shop", Report.of("constant <b>", List.of(Scored.of("a", 100, 300, false))));
        store.save("shop", Report.of("shop/run@abc1234", List.of(Scored.of("a", 100, 105, false))));
        try (PricerServer server = PricerServer.start("127.0.0.1", 0, List.of(new EvalModule(store)));
             HttpClient http = HttpClient.newHttpClient()) {
            String base = "http://127.0.0.1:" + server.port();
            String page = http.send(HttpRequest.newBuilder(URI.create(base + "/eval")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(page.indexOf("shop/run@abc1234") < page.indexOf("constant &lt;b&gt;"), page);
            assertTrue(!page.contains("<b>"), "names are escaped");
            assertTrue(page.contains("<a href=\"/hub/repo.html?type=models&amp;repo=shop%2Frun&amp;rev=abc1234\">shop/run@abc1234</a>"),
                    "a model revision links to its page in the hub: " + page);
            assertTrue(page.contains("<script src=\"/static/shared/nav.js\"></script>"), "the navigation bar every page has");
            String revision = http.send(HttpRequest.newBuilder(URI.create(base + "/api/eval/models/shop/run/abc1234" + "0".repeat(33))).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(revision.startsWith("[{\"dataset\":\"shop\",") && revision.contains("\"name\":\"shop/run@abc1234\"") && !revision.contains("constant"),
                    "a revision's results, for its hub page: " + revision);
            assertEquals("[]", http.send(HttpRequest.newBuilder(URI.create(base + "/api/eval/models/shop/run/abc1235")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            String api = http.send(HttpRequest.newBuilder(URI.create(base + "/api/eval")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(api.contains("\"averageError\":5.0"), api);
            HttpResponse<byte[]> png = http.send(HttpRequest.newBuilder(URI.create(base + "/eval/chart/shop/shop-run-abc1234")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, png.statusCode());
            assertEquals((byte) 0x89, png.body()[0]);
            assertEquals(404, http.send(HttpRequest.newBuilder(URI.create(base + "/eval/chart/shop/none")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(400, http.send(HttpRequest.newBuilder(URI.create(base + "/eval/chart/shop/..%2F..")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
        }
    }
}
