package dev.pricer.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.store.HubStore;
import dev.pricer.server.hub.HubLimits;
import dev.pricer.server.hub.HubModule;
import dev.pricer.server.track.TrackModule;
import dev.pricer.track.store.Tokens;
import dev.pricer.track.store.TrackStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One token system for the whole server: the tracking API and the hub check the same tokens, the same way. */
class AccessTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private TrackStore store;
    private HubStore hub;
    private HttpClient http;
    private PricerServer server;

    @BeforeEach
    void open() {
        store = TrackStore.openHome(tmp.resolve("home"));
        hub = Hubs.local(tmp.resolve("home/hub"));
        http = HttpClient.newHttpClient();
    }

    @AfterEach
    void close() {
        if (server != null) server.close();
        http.close();
        hub.close();
        store.close();
    }

    private void start(boolean openWithoutTokens) {
        Access access = new Access(store, openWithoutTokens);
        server = PricerServer.start("127.0.0.1", 0, List.of(new TrackModule(store, access), new HubModule(hub, access, HubLimits.DEFAULT)));
    }

    private HttpResponse<String> send(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) request.header("Content-Type", "application/json");
        if (token != null) request.header("Authorization", "Bearer " + token);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> putRun(String id, String token) throws Exception {
        return send("PUT", "/api/track/runs/" + id, token,
                "{\"id\":\"" + id + "\",\"project\":\"p\",\"name\":\"n\",\"status\":\"running\",\"startedMs\":1,\"heartbeatMs\":1}");
    }

    private HttpResponse<String> createRepo(String namespace, String name, String token) throws Exception {
        return createRepo(namespace, name, token, false);
    }

    private HttpResponse<String> createRepo(String namespace, String name, String token, boolean isPrivate) throws Exception {
        return send("POST", "/api/repos/create", token, "{\"type\":\"model\",\"organization\":\"" + namespace + "\",\"name\":\"" + name
                + "\",\"private\":" + isPrivate + "}");
    }

    private HttpResponse<String> commit(String repo, String token) throws Exception {
        String ndjson = """
                {"key":"header","value":{"summary":"step 1"}}
                {"key":"file","value":{"path":"a.txt","content":"aGVsbG8=","encoding":"base64"}}
                """;
        return send("POST", "/api/models/" + repo + "/commit/main", token, ndjson);
    }

    @Test
    void theSameTokenWritesRunsAndRepositories() throws Exception {
        start(false);
        String token = Tokens.create(store, "trainer", "alice", List.of("pricer")).secret();
        assertEquals(200, putRun("r1", token).statusCode());
        assertEquals(200, createRepo("pricer", "pricer-r1", token).statusCode());
        HttpResponse<String> committed = commit("pricer/pricer-r1", token);
        assertEquals(200, committed.statusCode(), committed.body());
        assertEquals("alice", hub.log(RepoId.model("pricer/pricer-r1"), hub.resolve(RepoId.model("pricer/pricer-r1"), "main"), 0, 1).getFirst().author(), "the token's user is the author");
        assertEquals(403, createRepo("other", "x", token).statusCode(), "a namespace the token was not given");
        assertEquals(200, createRepo("alice", "own", token).statusCode(), "its user's own namespace");
    }

    @Test
    void writesWithoutATokenAreRefusedOnceOneExists() throws Exception {
        start(true);
        Tokens.create(store, "ci", "ci", List.of("*"));
        assertEquals(401, putRun("r1", null).statusCode());
        assertEquals(401, createRepo("pricer", "x", null).statusCode());
        assertEquals(401, putRun("r1", "pricer_not_a_token").statusCode());
        assertEquals(401, createRepo("pricer", "x", "pricer_not_a_token").statusCode());
        assertTrue(store.run("r1").isEmpty());
        assertTrue(hub.repoInfo(RepoId.model("pricer/x")).isEmpty());
        assertEquals(200, send("GET", "/api/track/projects", null, null).statusCode(), "reads stay open");
        assertEquals(200, send("GET", "/api/models", null, null).statusCode());
    }

    @Test
    void aRevokedTokenIsRefusedByTrackingAndHub() throws Exception {
        start(false);
        Tokens.Created created = Tokens.create(store, "laptop", "alice", List.of("*"));
        Tokens.create(store, "other", "bob", List.of("bob"));
        assertEquals(200, createRepo("alice", "secret", created.secret(), true).statusCode());
        assertEquals(200, send("GET", "/api/models/alice/secret", created.secret(), null).statusCode());
        Tokens.revoke(store, created.token().id());
        assertEquals(401, putRun("r1", created.secret()).statusCode());
        assertEquals(401, createRepo("alice", "again", created.secret()).statusCode());
        assertEquals(401, commit("alice/secret", created.secret()).statusCode());
        assertEquals(401, send("GET", "/api/models/alice/secret", created.secret(), null).statusCode(), "not even a read");
    }

    @Test
    void aPrivateRepositoryAnswersAsMissingWithoutAToken() throws Exception {
        start(true);
        String alice = Tokens.create(store, "alice", "alice", List.of("team")).secret();
        String bob = Tokens.create(store, "bob", "bob", List.of("bob")).secret();
        hub.createRepo(RepoId.model("team/secret"), true);
        HttpResponse<String> hidden = send("GET", "/api/models/team/secret", null, null);
        HttpResponse<String> missing = send("GET", "/api/models/team/absent", null, null);
        assertEquals(404, hidden.statusCode());
        assertEquals(missing.headers().firstValue("X-Error-Code"), hidden.headers().firstValue("X-Error-Code"));
        assertEquals("RepoNotFound", hidden.headers().firstValue("X-Error-Code").orElseThrow());
        assertEquals(JSON.readTree(missing.body()).get("error").asText().replace("absent", "secret"), JSON.readTree(hidden.body()).get("error").asText());
        assertEquals(404, send("GET", "/api/models/team/secret", bob, null).statusCode(), "a token outside the namespace");
        assertEquals(200, send("GET", "/api/models/team/secret", alice, null).statusCode());
        assertFalse(send("GET", "/api/models", null, null).body().contains("team/secret"));
        assertTrue(send("GET", "/api/models", alice, null).body().contains("team/secret"));
    }

    @Test
    void withoutAnyTokenALoopbackServerIsOpenAndAnyOtherReadOnly() throws Exception {
        start(true);
        assertEquals(200, putRun("r1", null).statusCode());
        assertEquals(200, createRepo("pricer", "open", null).statusCode());
        assertEquals(200, commit("pricer/open", null).statusCode());
        server.close();
        start(false);
        HttpResponse<String> refused = putRun("r2", null);
        assertEquals(401, refused.statusCode());
        assertTrue(refused.body().contains("pricer token create"), refused.body());
        assertEquals(401, createRepo("pricer", "closed", null).statusCode());
        assertTrue(Access.isLoopback("127.0.0.1") && Access.isLoopback("localhost") && Access.isLoopback("::1"));
        assertFalse(Access.isLoopback("0.0.0.0"));
    }
}
