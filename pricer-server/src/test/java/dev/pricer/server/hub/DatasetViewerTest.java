package dev.pricer.server.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.Push;
import dev.pricer.hub.RepoId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dataset viewer's rows: a page of a split of a dataset repository, as the datasets library lays one out. */
class DatasetViewerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static HttpResponse<String> get(HubServerFixture fixture, String path, String token) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(fixture.uri() + path));
            if (token != null) request.header("Authorization", "Bearer " + token);
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    @Test
    void pagesOfEachSplitAtARevision() throws Exception {
        Path train = dir.resolve("train.parquet");
        try (var duck = DriverManager.getConnection("jdbc:duckdb:"); var sql = duck.createStatement()) {
            sql.execute("COPY (SELECT 'item ' || i AS text, i + 0.5 AS price FROM range(45) t(i)) TO '" + train + "' (FORMAT parquet)");
        }
        Path test = Files.writeString(dir.resolve("test.jsonl"), "{\"text\":\"held out\",\"price\":9.5}\n");
        RepoId repo = RepoId.parse("datasets/alice/prices"), secret = RepoId.parse("datasets/alice/secret");
        try (HubServerFixture fixture = new HubServerFixture(dir.resolve("hub"), HubLimits.DEFAULT);
             HubClient alice = Hubs.remote(fixture.uri(), HubServerFixture.ALICE)) {
            alice.createRepo(repo, false);
            String first = alice.push(repo, Push.files(Map.of("data/train-00000-of-00001.parquet", train, "data/test-00000-of-00001.jsonl", test,
                    "README.md", Files.writeString(dir.resolve("card"), "# prices")), "two splits")).sha();
            alice.push(repo, Push.files(Map.of("data/test-00000-of-00001.jsonl", Files.writeString(dir.resolve("t2"), "{\"text\":\"new\",\"price\":1}\n")), "new test"));

            JsonNode page = JSON.readTree(get(fixture, "/api/hub/rows/datasets/alice/prices/main?offset=40&length=10", null).body());
            assertEquals("train", page.get("split").asText(), "train by default");
            assertEquals("[\"test\",\"train\"]", page.get("splits").toString());
            assertEquals("[\"text\",\"price\"]", page.get("columns").toString());
            assertEquals(45, page.get("total").asLong());
            assertEquals(5, page.get("rows").size(), "the last five");
            assertEquals("item 40", page.get("rows").get(0).get("text").asText());
            assertEquals(40.5, page.get("rows").get(0).get("price").asDouble());

            assertEquals("new", JSON.readTree(get(fixture, "/api/hub/rows/datasets/alice/prices/main?split=test", null).body()).get("rows").get(0).get("text").asText());
            assertEquals("held out", JSON.readTree(get(fixture, "/api/hub/rows/datasets/alice/prices/" + first.substring(0, 7) + "?split=test", null).body())
                    .get("rows").get(0).get("text").asText(), "at an older revision");

            HttpResponse<String> noSplit = get(fixture, "/api/hub/rows/datasets/alice/prices/main?split=validation", null);
            assertEquals(404, noSplit.statusCode());
            assertTrue(noSplit.body().contains("has no split 'validation' (it has test, train)"), noSplit.body());
            assertEquals(400, get(fixture, "/api/hub/rows/datasets/alice/prices/main?length=1000", null).statusCode());
            assertEquals(400, get(fixture, "/api/hub/rows/datasets/alice/prices/main?offset=x", null).statusCode());

            alice.createRepo(secret, true);
            alice.push(secret, Push.files(Map.of("data/train-00000-of-00001.jsonl", test), "private"));
            assertEquals(404, get(fixture, "/api/hub/rows/datasets/alice/secret/main", null).statusCode(), "private to others");
            assertEquals(404, get(fixture, "/api/hub/rows/datasets/alice/secret/main", HubServerFixture.BOB).statusCode());
            assertEquals(200, get(fixture, "/api/hub/rows/datasets/alice/secret/main", HubServerFixture.ALICE).statusCode());
        }
    }
}
