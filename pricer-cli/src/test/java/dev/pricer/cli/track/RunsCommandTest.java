package dev.pricer.cli.track;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pricer.cli.PricerCommand;
import dev.pricer.cli.server.ServerCommand;
import dev.pricer.track.Run;
import dev.pricer.track.RunSpec;
import dev.pricer.track.Tracker;
import dev.pricer.track.TrackerOptions;
import dev.pricer.track.remote.TrackClient;
import dev.pricer.track.store.Tokens;
import dev.pricer.track.store.TrackStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunsCommandTest {

    @TempDir
    Path home;

    private record Result(int exit, String out) {
    }

    private Result pricer(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            int exit = new CommandLine(new PricerCommand()).execute(args);
            return new Result(exit, buffer.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(saved);
        }
    }

    @Test
    void listShowRenameAndHistory() throws Exception {
        String id;
        try (Tracker tracker = Tracker.open(TrackerOptions.local(home).withSystemMetricsEvery(Duration.ZERO))) {
            Run run = tracker.start(RunSpec.of("cli").withConfig(Map.of("lr", "2e-4")).withTags(List.of("qlora")));
            id = run.id();
            for (int step = 1; step <= 10; step++) run.log(step, Map.of("train/loss", 1.0 / step));
            run.finish();
        }
        String h = home.toString();
        JsonNode list = TrackClient.JSON.readTree(pricer("runs", "list", "--home", h, "--project", "cli", "--json").out());
        assertEquals(id, list.get(0).get("id").asText());
        assertTrue(pricer("runs", "list", "--home", h).out().contains(id));
        assertEquals(0, TrackClient.JSON.readTree(pricer("runs", "list", "--home", h, "--status", "running", "--json").out()).size());
        assertEquals(1, TrackClient.JSON.readTree(pricer("runs", "list", "--home", h, "--config", "lr=2e-4", "--json").out()).size());

        assertEquals("best so far", TrackClient.JSON.readTree(pricer("runs", "rename", "--home", h, id, "best so far", "--json").out())
                .get("name").asText());
        JsonNode shown = TrackClient.JSON.readTree(pricer("runs", "show", "--home", h, id, "--json").out());
        assertEquals("best so far", shown.get("name").asText());
        assertEquals("finished", shown.get("status").asText());
        assertTrue(pricer("runs", "show", "--home", h, id).out().contains("lr = 2e-4"));

        JsonNode history = TrackClient.JSON.readTree(pricer("runs", "history", "--home", h, id, "train/loss", "--json").out());
        assertEquals(10, history.size());
        assertEquals(0.1, history.get(9).get("value").asDouble(), 1e-12);

        assertEquals("baseline, best, qlora", pricer("runs", "tags", "--home", h, id, "--add", "best,baseline").out().strip(), "sorted, as the store keeps them");
        assertEquals(List.of("baseline", "qlora"), TrackClient.JSON.readValue(pricer("runs", "tags", "--home", h, id, "--remove", "best", "--json").out(), List.class));
        assertEquals("baseline, qlora", pricer("runs", "tags", "--home", h, id).out().strip(), "without --add or --remove, the tags");
        assertEquals(2, pricer("runs", "tags", "--home", h, "no-such-run").exit());

        assertEquals(2, pricer("runs", "show", "--home", h, "no-such-run").exit(), "a missing run is a one-line error");
        assertEquals(2, pricer("runs", "list", "--home", h, "--status", "paused").exit());
    }

    /** A run is deleted here and on the server it streamed to, only when asked twice; a running run is kept. */
    @Test
    void deleteHereAndOnTheServer() throws Exception {
        String h = home.toString();
        try (ServerCommand.Running server = ServerCommand.start("127.0.0.1", 0, home.resolve("server"), false)) {
            String url = "http://127.0.0.1:" + server.server().port();
            String id, live;
            try (Tracker tracker = Tracker.open(TrackerOptions.local(home).withServer(java.net.URI.create(url)).withSystemMetricsEvery(Duration.ZERO))) {
                Run run = tracker.start(RunSpec.of("cli").withName("doomed"));
                id = run.id();
                run.log(1, Map.of("train/loss", 1.0));
                run.finish();
                Run running = tracker.start(RunSpec.of("cli").withName("live"));
                live = running.id();
                running.flush();
            }
            assertTrue(server.store().run(id).isPresent(), "streamed to the server");

            Result asked = pricer("runs", "delete", "--home", h, "--server", url, id);
            assertEquals(2, asked.exit());
            assertTrue(server.store().run(id).isPresent() && pricer("runs", "show", "--home", h, id).exit() == 0, "nothing deleted without --yes");
            JsonNode deleted = TrackClient.JSON.readTree(pricer("runs", "delete", "--home", h, "--server", url, "--yes", "--json", id).out());
            assertEquals("[{\"id\":\"" + id + "\",\"from\":[\"here\",\"" + url + "\"]}]", deleted.toString());
            assertTrue(server.store().run(id).isEmpty());
            assertEquals(2, pricer("runs", "show", "--home", h, id).exit());
            assertEquals(2, pricer("runs", "delete", "--home", h, "--server", url, "--yes", id).exit(), "gone from both");
            assertEquals(2, pricer("runs", "delete", "--home", h, "--yes", live).exit(), "still running");
            assertEquals(0, pricer("runs", "show", "--home", h, live).exit());
        }
    }

    @Test
    void tokensAreCreatedListedAndRevokedStoringOnlyAHash() throws Exception {
        String h = home.toString();
        JsonNode created = TrackClient.JSON.readTree(pricer("token", "create", "--home", h, "--name", "ci", "--user", "alice",
                "--namespace", "team,lab", "--json").out());
        String token = created.get("token").asText();
        assertTrue(token.startsWith("pricer_"));
        assertEquals("alice", created.get("user").asText());
        assertEquals(List.of("team", "lab"), TrackClient.JSON.convertValue(created.get("namespaces"), List.class));
        try (TrackStore store = TrackStore.openHome(home)) {
            assertTrue(Tokens.valid(store, token));
            assertTrue(!Tokens.valid(store, token + "x"));
        }
        assertFalse(Files.readString(home.resolve("track.db"), StandardCharsets.ISO_8859_1).contains(token), "no secret on disk");
        pricer("token", "create", "--home", h, "--name", "ci");
        JsonNode listed = TrackClient.JSON.readTree(pricer("token", "list", "--home", h, "--json").out());
        assertEquals(2, listed.size());
        assertFalse(listed.toString().contains(token), "a listing never shows a secret");
        assertEquals(2, pricer("token", "revoke", "--home", h, "ci").exit(), "two active tokens are named ci: ambiguous");
        String id = created.get("id").asText();
        JsonNode revoked = TrackClient.JSON.readTree(pricer("token", "revoke", "--home", h, id, "--json").out());
        assertFalse(revoked.get("active").asBoolean());
        try (TrackStore store = TrackStore.openHome(home)) {
            assertFalse(Tokens.valid(store, token), "a revoked token is refused");
        }
        assertEquals(2, pricer("token", "revoke", "--home", h, id).exit(), "already revoked");
        assertEquals(0, pricer("token", "revoke", "--home", h, "ci").exit(), "now the name is unambiguous");
        assertEquals(2, pricer("token", "create", "--home", h, "--user", "bad/user").exit(), "a user that is no hub namespace");
    }
}
