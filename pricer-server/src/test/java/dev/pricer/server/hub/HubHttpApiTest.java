package dev.pricer.server.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.hub.Push;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.LocalHub;
import dev.pricer.hub.store.Hashing;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Hugging Face API subset over raw HTTP: headers, ranges, pagination, tokens, privacy and bad input. */
class HubHttpApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HubLimits LIMITS = new HubLimits(100, 1000, 5000, 20_000);

    @TempDir
    Path tmp;

    private HubServerFixture fixture;
    private HttpClient http;
    private String base;
    private String head;
    private final byte[] big = new byte[300];

    @BeforeEach
    void start() throws IOException {
        fixture = new HubServerFixture(tmp.resolve("hub"), LIMITS);
        http = HttpClient.newHttpClient();
        base = fixture.uri().toString();
        for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 7);
        try (LocalHub local = new LocalHub(fixture.store, "alice")) {
            for (String name : List.of("alice/public", "alice/secret")) {
                RepoId repo = RepoId.model(name);
                local.createRepo(repo, name.endsWith("secret"));
                local.push(repo, Push.files(Map.of("a.txt", Files.writeString(tmp.resolve("a"), "hello"), "dir/sub/big.bin", Files.write(tmp.resolve("b"), big),
                    "dir/c.txt", Files.writeString(tmp.resolve("c"), "c")), "first"));
                String sha = local.push(repo, Push.files(Map.of("a.txt", Files.writeString(tmp.resolve("a"), "hello again")), "second")).sha();
                if (name.equals("alice/public")) head = sha;
            }
        }
    }

    @AfterEach
    void stop() {
        http.close();
        fixture.close();
    }

    private HttpResponse<byte[]> send(String method, String path, String token, String body, String... headers) throws Exception {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(path.startsWith("http") ? path : base + path))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) builder.header("Authorization", "Bearer " + token);
        for (int i = 0; i < headers.length; i += 2) builder.header(headers[i], headers[i + 1]);
        return http.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String text(HttpResponse<byte[]> response) {
        return new String(response.body(), StandardCharsets.UTF_8);
    }

    private static JsonNode json(HttpResponse<byte[]> response) throws IOException {
        return JSON.readTree(response.body());
    }

    private static String header(HttpResponse<?> response, String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    /**
     * huggingface_hub's upload_folder asks validate-yaml before committing a README.md (a 404 there failed the upload),
     * and hf_xet asks for Xet tokens, which this hub answers with how to use Git LFS instead.
     */
    @Test
    void validateYamlAndXetTokensAnswerHuggingfaceHub() throws Exception {
        for (String card : List.of("---\nlicense: apache-2.0\ntags: [price]\n---\n# Card\n", "# No metadata\n", "---\n---\ntext", "")) {
            HttpResponse<byte[]> ok = send("POST", "/api/validate-yaml", null, JSON.createObjectNode().put("content", card).put("repoType", "model").toString());
            assertEquals(200, ok.statusCode(), card + ": " + text(ok));
            assertEquals(0, json(ok).get("errors").size());
            assertEquals(0, json(ok).get("warnings").size());
        }
        Map<String, String> bad = Map.of(
            "---\nlicense: [apache\n---\n", "not valid YAML",
            "---\n- a list\n---\n", "must be a YAML mapping",
            "---\nlicense: mit\n# never closed\n", "not closed");
        for (var card : bad.entrySet()) {
            HttpResponse<byte[]> refused = send("POST", "/api/validate-yaml", null, JSON.createObjectNode().put("content", card.getKey()).toString());
            assertEquals(400, refused.statusCode(), card.getKey());
            assertTrue(json(refused).get("errors").get(0).get("message").asText().contains(card.getValue()), text(refused));
        }
        HttpResponse<byte[]> xet = send("GET", "/api/models/alice/public/xet-write-token/main", null, null);
        assertEquals(501, xet.statusCode());
        assertTrue(header(xet, "X-Error-Message").contains("HF_HUB_DISABLE_XET=1"), text(xet));
        HttpResponse<byte[]> type = send("POST", "/api/validate-yaml", null, JSON.createObjectNode().put("content", "").put("repoType", "notebook").toString());
        assertEquals(400, type.statusCode());
        assertTrue(text(type).contains("repoType 'notebook'"), text(type));
    }

    /** The repository page's model card: metadata as JSON, Markdown (tables too) as HTML, the card's own HTML shown as text. */
    @Test
    void theModelCardIsRenderedForTheRepositoryPage() throws Exception {
        assertEquals("{\"enabled\":false}", text(send("GET", "/api/hub/inference", null, null)), "this server prices no texts");
        HttpResponse<byte[]> none = send("GET", "/api/hub/card/models/alice/public/main", null, null);
        assertEquals(404, none.statusCode());
        assertEquals("EntryNotFound", header(none, "X-Error-Code"));
        assertTrue(text(none).contains("has no README.md"), text(none));
        String card = """
            ---
            base_model: meta-llama/Llama-3.1-8B
            library_name: peft
            tags: [pricer, lora]
            ---
            # shop-run1

            | step | loss |
            |---|---|
            | 100 | 1.25 |

            <script>alert(1)</script>

            [a link](javascript:alert(2)) and [the run](/runs/abc)
            """;
        String sha;
        try (LocalHub local = new LocalHub(fixture.store, "alice")) {
            sha = local.push(RepoId.model("alice/public"), Push.files(Map.of("README.md", Files.writeString(tmp.resolve("card"), card)), "card")).sha();
        }
        JsonNode shown = json(send("GET", "/api/hub/card/models/alice/public/" + sha.substring(0, 7), null, null));
        assertEquals(sha, shown.get("sha").asText());
        assertEquals("meta-llama/Llama-3.1-8B", shown.get("metadata").get("base_model").asText());
        assertEquals("lora", shown.get("metadata").get("tags").get(1).asText());
        String html = shown.get("html").asText();
        assertTrue(html.startsWith("<h1>shop-run1</h1>") && html.contains("<td>1.25</td>"), html);
        assertTrue(html.contains("&lt;script&gt;") && !html.contains("<script"), "the card's HTML is text: " + html);
        assertTrue(!html.contains("javascript:") && html.contains("href=\"/runs/abc\""), "javascript: links are dropped: " + html);
        assertEquals(404, send("GET", "/api/hub/card/models/alice/secret/main", null, null).statusCode(), "a private repository is missing to strangers");

        try (LocalHub local = new LocalHub(fixture.store, "alice")) {
            local.push(RepoId.model("alice/public"), Push.files(Map.of("README.md", Files.writeString(tmp.resolve("card"), "---\n- a list\n---\ntext")), "bad card"));
        }
        JsonNode bad = json(send("GET", "/api/hub/card/models/alice/public/main", null, null));
        assertTrue(bad.get("metadataError").asText().contains("must be a YAML mapping"), bad.toString());
        assertEquals(0, bad.get("metadata").size());
        assertEquals("<p>text</p>\n", bad.get("html").asText());
    }

    @Test
    void resolveAnswersWithTheHubHeadersAndRanges() throws Exception {
        HttpResponse<byte[]> small = send("GET", "/alice/public/resolve/main/a.txt", null, null);
        assertEquals(200, small.statusCode());
        assertEquals("hello again", text(small));
        assertEquals(head, header(small, "X-Repo-Commit"));
        assertEquals("\"" + Hashing.sha256("hello again".getBytes()) + "\"", header(small, "ETag"));
        assertEquals(null, header(small, "X-Linked-Etag"));
        assertEquals("11", header(small, "Content-Length"));

        HttpResponse<byte[]> large = send("HEAD", "/alice/public/resolve/" + head.substring(0, 7) + "/dir/sub/big.bin", null, null);
        assertEquals(200, large.statusCode());
        assertEquals("\"" + Hashing.sha256(big) + "\"", header(large, "X-Linked-Etag"));
        assertEquals("300", header(large, "X-Linked-Size"));
        assertEquals("300", header(large, "Content-Length"));
        assertEquals(0, large.body().length);

        HttpResponse<byte[]> range = send("GET", "/alice/public/resolve/main/dir/sub/big.bin", null, null, "Range", "bytes=10-19");
        assertEquals(206, range.statusCode());
        assertEquals("bytes 10-19/300", header(range, "Content-Range"));
        assertArrayEquals(java.util.Arrays.copyOfRange(big, 10, 20), range.body());
        HttpResponse<byte[]> suffix = send("GET", "/alice/public/resolve/main/dir/sub/big.bin", null, null, "Range", "bytes=-5");
        assertArrayEquals(java.util.Arrays.copyOfRange(big, 295, 300), suffix.body());
        HttpResponse<byte[]> open = send("GET", "/alice/public/resolve/main/dir/sub/big.bin", null, null, "Range", "bytes=290-");
        assertEquals("bytes 290-299/300", header(open, "Content-Range"));
        HttpResponse<byte[]> beyond = send("GET", "/alice/public/resolve/main/dir/sub/big.bin", null, null, "Range", "bytes=300-400");
        assertEquals(416, beyond.statusCode());
        assertEquals("bytes */300", header(beyond, "Content-Range"));

        assertEquals("RevisionNotFound", header(send("GET", "/alice/public/resolve/nope/a.txt", null, null), "X-Error-Code"));
        assertEquals("EntryNotFound", header(send("GET", "/alice/public/resolve/main/zzz.txt", null, null), "X-Error-Code"));
        assertEquals("RepoNotFound", header(send("GET", "/alice/nope/resolve/main/a.txt", null, null), "X-Error-Code"));
    }

    @Test
    void repoInfoTreeCommitsAndRefsFollowTheHubShapes() throws Exception {
        JsonNode info = json(send("GET", "/api/models/alice/public", null, null));
        assertEquals("alice/public", info.get("id").asText());
        assertEquals(head, info.get("sha").asText());
        assertEquals(3, info.get("siblings").size());
        JsonNode old = json(send("GET", "/api/models/alice/public/revision/" + info.get("sha").asText().substring(0, 10) + "?blobs=true", null, null));
        assertEquals(300, old.get("siblings").get(2).get("size").asLong());
        assertEquals(Hashing.sha256(big), old.get("siblings").get(2).get("lfs").get("sha256").asText());

        List<String> paths = new ArrayList<>();
        String next = "/api/models/alice/public/tree/main?recursive=true&limit=2";
        int pages = 0;
        while (next != null) {
            HttpResponse<byte[]> page = send("GET", next, null, null);
            json(page).forEach(entry -> paths.add(entry.get("type").asText() + ":" + entry.get("path").asText()));
            String link = header(page, "Link");
            next = link == null ? null : link.substring(1, link.indexOf('>'));
            pages++;
        }
        assertEquals(List.of("file:a.txt", "directory:dir", "file:dir/c.txt", "directory:dir/sub", "file:dir/sub/big.bin"), paths);
        assertEquals(3, pages);
        JsonNode dir = json(send("GET", "/api/models/alice/public/tree/main/dir", null, null));
        assertEquals(2, dir.size());
        assertEquals("dir/c.txt", dir.get(0).get("path").asText());
        assertEquals("directory", dir.get(1).get("type").asText());
        // huggingface_hub's RepoFolder requires an oid of every folder it lists (snapshot_download failed without one).
        String subId = dir.get(1).get("oid").asText();
        assertEquals(40, subId.length());
        assertEquals(subId, json(send("GET", "/api/models/alice/public/tree/main?recursive=true", null, null)).get(3).get("oid").asText(),
            "the same folder, the same id");
        assertTrue(!subId.equals(json(send("GET", "/api/models/alice/public/tree/main", null, null)).get(1).get("oid").asText()),
            "dir and dir/sub hold different files");
        assertEquals("EntryNotFound", header(send("GET", "/api/models/alice/public/tree/main/nodir", null, null), "X-Error-Code"));

        // get_paths_info posts the paths form-encoded; what is not there is left out.
        JsonNode infos = json(send("POST", "/api/models/alice/public/paths-info/main", null, "paths=a.txt&paths=dir%2Fsub&paths=nope&expand=False",
            "Content-Type", "application/x-www-form-urlencoded"));
        assertEquals(2, infos.size());
        assertEquals("file:a.txt", infos.get(0).get("type").asText() + ":" + infos.get(0).get("path").asText());
        assertEquals(subId, infos.get(1).get("oid").asText(), "the folder as the tree lists it");
        assertEquals(1, json(send("POST", "/api/models/alice/public/paths-info/main", null, "{\"paths\": [\"dir/c.txt\"]}",
            "Content-Type", "application/json")).size());

        HttpResponse<byte[]> commits = send("GET", "/api/models/alice/public/commits/main?limit=1", null, null);
        assertEquals("second", json(commits).get(0).get("title").asText());
        assertEquals(head, json(commits).get(0).get("id").asText());
        assertTrue(header(commits, "Link").contains("p=1"), header(commits, "Link"));
        String page2 = header(commits, "Link").substring(1, header(commits, "Link").indexOf('>'));
        assertEquals("first", json(send("GET", page2, null, null)).get(0).get("title").asText());

        JsonNode refs = json(send("GET", "/api/models/alice/public/refs", null, null));
        assertEquals("refs/heads/main", refs.get("branches").get(0).get("ref").asText());
        assertEquals(head, refs.get("branches").get(0).get("targetCommit").asText());

        JsonNode changes = json(send("GET", "/api/hub/changes/models/alice/public/" + head, null, null));
        assertEquals("changed", changes.get("changes").get(0).get("kind").asText());
        assertEquals(5, changes.get("changes").get(0).get("oldSize").asLong());
        for (String page : List.of("index.html", "repo.html", "commit.html", "hub.js", "hub.css")) {
            assertEquals(200, send("GET", "/hub/" + page, null, null).statusCode(), page);
        }
    }

    /** update_repo_settings: huggingface_hub 1.x sends {"visibility": "private"}, earlier clients {"private": true}. */
    @Test
    void settingsTakeVisibilityOrPrivate() throws Exception {
        String path = "/api/models/alice/public/settings";
        assertEquals(401, send("PUT", path, null, "{\"visibility\": \"private\"}", "Content-Type", "application/json").statusCode());
        assertTrue(json(send("PUT", path, HubServerFixture.ALICE, "{\"visibility\": \"private\"}", "Content-Type", "application/json")).get("private").asBoolean());
        assertEquals(404, send("GET", "/api/models/alice/public", null, null).statusCode(), "private: hidden from others");
        assertFalse(json(send("PUT", path, HubServerFixture.ALICE, "{\"private\": false}", "Content-Type", "application/json")).get("private").asBoolean());
        HttpResponse<byte[]> neither = send("PUT", path, HubServerFixture.ALICE, "{\"visibility\": \"secret\"}", "Content-Type", "application/json");
        assertEquals(400, neither.statusCode());
        assertTrue(text(neither).contains("\\\"visibility\\\": \\\"private\\\" or \\\"public\\\""), text(neither));
        assertEquals(200, send("GET", "/api/models/alice/public", null, null).statusCode());
    }

    @Test
    void aPrivateRepositoryAnswersExactlyAsAMissingOne() throws Exception {
        for (String token : new String[] {null, HubServerFixture.BOB}) {
            for (String path : List.of("/api/models/alice/%s", "/api/models/alice/%s/revision/main", "/api/models/alice/%s/tree/main",
                "/api/models/alice/%s/commits/main", "/api/models/alice/%s/refs", "/alice/%s/resolve/main/a.txt")) {
                HttpResponse<byte[]> hidden = send("GET", path.formatted("secret"), token, null);
                HttpResponse<byte[]> missing = send("GET", path.formatted("secreX"), token, null);
                assertEquals(404, hidden.statusCode(), path);
                assertEquals(header(missing, "X-Error-Code"), header(hidden, "X-Error-Code"), path);
                assertEquals(text(missing).replace("secreX", "secret"), text(hidden), path);
            }
            HttpResponse<byte[]> commit = send("POST", "/api/models/alice/secret/commit/main", token, "{\"key\":\"header\",\"value\":{\"summary\":\"x\"}}");
            assertEquals(404, commit.statusCode());
            assertFalse(text(send("GET", "/api/models", token, null)).contains("secret"));
        }
        assertEquals(200, send("GET", "/alice/secret/resolve/main/a.txt", HubServerFixture.ALICE, null).statusCode());
        assertTrue(text(send("GET", "/api/models", HubServerFixture.ALICE, null)).contains("alice/secret"));
        assertEquals(401, send("GET", "/api/models/alice/public", "hf_not_a_token", null).statusCode());
    }

    @Test
    void writesNeedATokenOfTheNamespace() throws Exception {
        String create = "{\"name\":\"new\",\"organization\":\"alice\"}";
        assertEquals(401, send("POST", "/api/repos/create", null, create).statusCode());
        assertEquals(403, send("POST", "/api/repos/create", HubServerFixture.BOB, create).statusCode());
        assertEquals(200, send("POST", "/api/repos/create", HubServerFixture.ALICE, create).statusCode());
        assertEquals(409, send("POST", "/api/repos/create", HubServerFixture.ALICE, create).statusCode());
        assertEquals(200, send("POST", "/api/repos/create", HubServerFixture.ALICE, "{\"name\":\"shared\",\"organization\":\"team\"}").statusCode());
        String commit = "{\"key\":\"header\",\"value\":{\"summary\":\"x\"}}\n{\"key\":\"file\",\"value\":{\"path\":\"b.txt\",\"content\":\"aGk=\",\"encoding\":\"base64\"}}";
        assertEquals(401, send("POST", "/api/models/alice/public/commit/main", null, commit).statusCode());
        assertEquals(403, send("POST", "/api/models/alice/public/commit/main", HubServerFixture.BOB, commit).statusCode());
        assertEquals(401, send("POST", "/api/models/alice/public/preupload/main", null, "{\"files\":[]}").statusCode());
        assertEquals(401, send("POST", "/alice/public.git/info/lfs/objects/batch", null, "{\"operation\":\"upload\",\"objects\":[]}").statusCode());
        assertEquals(401, send("POST", "/api/models/alice/public/tag/main", null, "{\"tag\":\"v1\"}").statusCode());
        assertEquals(head, fixture.store.resolve(RepoId.model("alice/public"), "main"), "nothing was committed");
        HttpResponse<byte[]> ok = send("POST", "/api/models/alice/public/commit/main", HubServerFixture.ALICE, commit);
        assertEquals(200, ok.statusCode(), text(ok));
        assertEquals("hi", text(send("GET", "/alice/public/resolve/main/b.txt", null, null)));
    }

    @Test
    void badPathsAndNamesAreRejectedAndNothingChanges() throws Exception {
        for (String path : List.of("../x", "/etc/passwd", "a\\\\b", "a\\u0000b", "dir/../../x", "a//b")) {
            String commit = "{\"key\":\"header\",\"value\":{\"summary\":\"x\"}}\n{\"key\":\"file\",\"value\":{\"path\":\"" + path + "\",\"content\":\"aGk=\",\"encoding\":\"base64\"}}";
            HttpResponse<byte[]> answer = send("POST", "/api/models/alice/public/commit/main", HubServerFixture.ALICE, commit);
            assertEquals(400, answer.statusCode(), path + ": " + text(answer));
            HttpResponse<byte[]> preupload = send("POST", "/api/models/alice/public/preupload/main", HubServerFixture.ALICE,
                "{\"files\":[{\"path\":\"" + path + "\",\"size\":1,\"sample\":\"\"}]}");
            assertEquals(400, preupload.statusCode(), path);
        }
        assertEquals(400, send("POST", "/api/models/alice/public/commit/main", HubServerFixture.ALICE,
            "{\"key\":\"header\",\"value\":{\"summary\":\"x\"}}\n{\"key\":\"deletedFile\",\"value\":{\"path\":\"../a.txt\"}}").statusCode());
        for (String name : List.of("bad name", "..", "a/b", "x$", "")) {
            String body = JSON.createObjectNode().put("name", name).put("organization", "alice").toString();
            assertEquals(400, send("POST", "/api/repos/create", HubServerFixture.ALICE, body).statusCode(), name);
        }
        assertEquals(400, send("GET", "/api/models/alice/x$y", null, null).statusCode());
        assertEquals(head, fixture.store.resolve(RepoId.model("alice/public"), "main"));
        assertEquals(1, fixture.store.listRepos(dev.pricer.hub.RepoType.MODEL).stream().filter(r -> !r.isPrivate()).count());
    }

    private String uploadLink(String repo, String oid, long size, String token) throws Exception {
        String batch = "{\"operation\":\"upload\",\"transfers\":[\"basic\"],\"objects\":[{\"oid\":\"" + oid + "\",\"size\":" + size + "}]}";
        JsonNode answer = json(send("POST", "/" + repo + ".git/info/lfs/objects/batch", token, batch));
        return answer.get("objects").get(0).path("actions").path("upload").path("href").asText(null);
    }

    @Test
    void lfsBodiesThatLieAboutHashOrSizeAreRejectedAndNotStored() throws Exception {
        byte[] content = "large file content that goes through LFS, well over the 100 byte threshold of this test's limits....".getBytes();
        String oid = Hashing.sha256(content);
        String href = uploadLink("alice/public", oid, content.length, HubServerFixture.ALICE);

        HttpResponse<byte[]> wrongBytes = send("PUT", href, null, new String(content).replace('l', 'L'));
        assertEquals(400, wrongBytes.statusCode(), text(wrongBytes));
        HttpResponse<byte[]> tooLong = send("PUT", href, null, new String(content) + "!");
        assertEquals(400, tooLong.statusCode());
        HttpResponse<byte[]> tooShort = send("PUT", href, null, new String(content).substring(1));
        assertEquals(400, tooShort.statusCode());
        assertTrue(fixture.store.blob(oid).isEmpty(), "nothing stored");
        assertEquals(403, send("PUT", href.replace("signature=", "signature=0"), null, new String(content)).statusCode());
        assertEquals(403, send("PUT", href.replace("size=" + content.length, "size=" + (content.length + 1)), null, new String(content) + "!").statusCode());
        try (var staged = Files.list(tmp.resolve("hub/tmp"))) {
            assertEquals(0, staged.count(), "no temporary file left");
        }

        String lfsCommit = "{\"key\":\"header\",\"value\":{\"summary\":\"lfs\"}}\n{\"key\":\"lfsFile\",\"value\":{\"path\":\"w.bin\",\"algo\":\"sha256\",\"oid\":\"" + oid + "\",\"size\":" + content.length + "}}";
        assertEquals(400, send("POST", "/api/models/alice/public/commit/main", HubServerFixture.ALICE, lfsCommit).statusCode(), "not uploaded yet");
        assertEquals(200, send("PUT", href, null, new String(content)).statusCode());
        assertEquals(200, send("POST", "/api/models/alice/public/commit/main", HubServerFixture.ALICE, lfsCommit).statusCode());
        assertEquals(null, uploadLink("alice/public", oid, content.length, HubServerFixture.ALICE), "already uploaded: no action");

        send("POST", "/api/repos/create", HubServerFixture.BOB, "{\"name\":\"thief\"}");
        HttpResponse<byte[]> stolen = send("POST", "/api/models/bob/thief/commit/main", HubServerFixture.BOB, lfsCommit);
        assertEquals(400, stolen.statusCode(), "knowing a hash does not give its content");
        assertTrue(fixture.store.branch(RepoId.model("bob/thief"), "main").isEmpty());
    }

    @Test
    void sizeLimitsHold() throws Exception {
        String inline = Base64.getEncoder().encodeToString(new byte[1001]);
        HttpResponse<byte[]> tooBigInline = send("POST", "/api/models/alice/public/commit/main", HubServerFixture.ALICE,
            "{\"key\":\"header\",\"value\":{\"summary\":\"x\"}}\n{\"key\":\"file\",\"value\":{\"path\":\"x\",\"content\":\"" + inline + "\",\"encoding\":\"base64\"}}");
        assertEquals(413, tooBigInline.statusCode());
        HttpResponse<byte[]> tooBigBody = send("POST", "/api/models/alice/public/commit/main", HubServerFixture.ALICE,
            "{\"key\":\"header\",\"value\":{\"summary\":\"" + "x".repeat(30_000) + "\"}}");
        assertEquals(413, tooBigBody.statusCode());
        String batch = "{\"operation\":\"upload\",\"objects\":[{\"oid\":\"" + "a".repeat(64) + "\",\"size\":5001}]}";
        JsonNode refused = json(send("POST", "/alice/public.git/info/lfs/objects/batch", HubServerFixture.ALICE, batch));
        assertTrue(refused.get("objects").get(0).get("error").get("message").asText().contains("limit"));
        assertEquals(413, send("POST", "/api/models/alice/public/preupload/main", HubServerFixture.ALICE,
            "{\"files\":[{\"path\":\"w\",\"size\":5001,\"sample\":\"\"}]}").statusCode());
        assertEquals(head, fixture.store.resolve(RepoId.model("alice/public"), "main"));
    }
}
