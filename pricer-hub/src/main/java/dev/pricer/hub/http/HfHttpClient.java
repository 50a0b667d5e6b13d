package dev.pricer.hub.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pricer.hub.CheckedDownload;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.FileEntry;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.HubException;
import dev.pricer.hub.Push;
import dev.pricer.hub.Ref;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.RepoInfo;
import dev.pricer.hub.RepoType;
import dev.pricer.hub.TransferProgress;
import dev.pricer.hub.store.Hashing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Flow;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@link HubClient} that speaks the Hugging Face Hub HTTP protocol, to Pricer's server or to the Hugging Face
 * Hub itself: the JSON API for repositories, trees, commits and refs; {@code resolve/{rev}/{path}} for
 * downloads (following redirects, dropping the token when one leaves the endpoint's origin, and checking size
 * and sha256); and for pushes the preupload call, the Git LFS batch API with basic transfer for large files,
 * and the NDJSON commit call.
 */
public final class HfHttpClient implements HubClient {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NEXT_LINK = Pattern.compile("<([^>]+)>;\\s*rel=\"next\"");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-\\d+/(\\d+)");
    private static final int MAX_REDIRECTS = 5;
    private static final int PAGE = 1000;

    private final URI endpoint;
    private final String token;
    private final HttpClient http;

    public HfHttpClient(URI endpoint, String token) {
        String base = endpoint.toString();
        this.endpoint = URI.create(base.endsWith("/") ? base.substring(0, base.length() - 1) : base);
        this.token = token == null || token.isBlank() ? null : token;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(30)).build();
    }

    // ---- repositories

    @Override
    public RepoInfo createRepo(RepoId repo, boolean isPrivate) {
        ObjectNode body = JSON.createObjectNode().put("name", repo.name()).put("organization", repo.namespace())
            .put("type", repo.type() == RepoType.MODEL ? "model" : "dataset").put("private", isPrivate);
        send(request(endpoint + "/api/repos/create").POST(HttpRequest.BodyPublishers.ofString(body.toString()))
            .header("Content-Type", "application/json"), "create " + repo.qualified());
        return repoInfo(repo).orElseThrow(() -> new HubException.Failure("server created " + repo.qualified() + " but does not show it", null));
    }

    @Override
    public Optional<RepoInfo> repoInfo(RepoId repo) {
        try {
            return Optional.of(repoInfo(repo, json(request(api(repo)), "read " + repo.qualified())));
        } catch (HubException.NotFound e) {
            if (e.missing() == HubException.Missing.REPO) return Optional.empty();
            throw e;
        }
    }

    private static RepoInfo repoInfo(RepoId repo, JsonNode node) {
        Instant created = instant(node.path("createdAt"));
        Instant modified = node.hasNonNull("lastModified") ? instant(node.path("lastModified")) : created;
        return new RepoInfo(repo, node.path("private").asBoolean(), created, node.hasNonNull("sha") ? node.get("sha").asText() : null, modified);
    }

    private static Instant instant(JsonNode node) {
        return node.isTextual() ? Instant.parse(node.asText()) : Instant.EPOCH;
    }

    @Override
    public List<RepoInfo> listRepos(RepoType type) {
        List<RepoInfo> repos = new ArrayList<>();
        for (JsonNode node : pages(endpoint + "/api/" + type.plural() + "?limit=" + PAGE, "list " + type.plural())) {
            repos.add(repoInfo(RepoId.parse(type, node.path("id").asText()), node));
        }
        return repos;
    }

    // ---- pushing

    @Override
    public CommitInfo push(RepoId repo, Push push, TransferProgress progress) {
        String what = "push to " + repo.qualified() + "@" + push.branch();
        Set<String> lfs = preupload(repo, push, what);
        Map<String, String> lfsShas = new LinkedHashMap<>();
        for (String path : lfs) lfsShas.put(path, sha256(push.files().get(path)));
        if (!lfsShas.isEmpty()) uploadLfs(repo, push, lfsShas, what, progress);

        StringBuilder ndjson = new StringBuilder();
        String[] titleAndBody = push.message().split("\n\n", 2);
        ObjectNode header = JSON.createObjectNode().put("summary", titleAndBody[0]);
        if (titleAndBody.length > 1) header.put("description", titleAndBody[1]);
        if (push.expectedHead() != null) header.put("parentCommit", push.expectedHead());
        line(ndjson, "header", header);
        for (Map.Entry<String, Path> file : push.files().entrySet()) {
            String sha = lfsShas.get(file.getKey());
            if (sha != null) {
                line(ndjson, "lfsFile", JSON.createObjectNode().put("path", file.getKey()).put("algo", "sha256").put("oid", sha).put("size", size(file.getValue())));
            } else {
                line(ndjson, "file", JSON.createObjectNode().put("path", file.getKey()).put("encoding", "base64")
                    .put("content", Base64.getEncoder().encodeToString(read(file.getValue()))));
            }
        }
        for (String path : push.deletions()) line(ndjson, "deletedFile", JSON.createObjectNode().put("path", path));
        JsonNode answer = json(request(api(repo) + "/commit/" + encode(push.branch()))
            .header("Content-Type", "application/x-ndjson").POST(HttpRequest.BodyPublishers.ofString(ndjson.toString())), what);
        String oid = answer.path("commitOid").asText();
        List<CommitInfo> log = log(repo, oid, 1);
        if (log.isEmpty()) throw new HubException.Failure(what + ": the server answered commit " + oid + " but does not list it", null);
        return log.getFirst();
    }

    private Set<String> preupload(RepoId repo, Push push, String what) {
        Set<String> lfs = new HashSet<>();
        List<String> paths = List.copyOf(push.files().keySet());
        for (int from = 0; from < paths.size(); from += 100) {
            ArrayNode files = JSON.createArrayNode();
            for (String path : paths.subList(from, Math.min(paths.size(), from + 100))) {
                Path file = push.files().get(path);
                byte[] sample;
                try (InputStream in = Files.newInputStream(file)) {
                    sample = in.readNBytes(512);
                } catch (IOException e) {
                    throw new HubException.Failure("cannot read " + file + ": " + e, e);
                }
                files.addObject().put("path", path).put("size", size(file)).put("sample", Base64.getEncoder().encodeToString(sample));
            }
            ObjectNode body = JSON.createObjectNode();
            body.set("files", files);
            JsonNode answer = json(request(api(repo) + "/preupload/" + encode(push.branch()))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())), what);
            for (JsonNode file : answer.path("files")) {
                if ("lfs".equals(file.path("uploadMode").asText())) lfs.add(file.path("path").asText());
            }
        }
        return lfs;
    }

    /** Uploads the large files the server asks for, each telling {@code progress}; small ones go inline in the commit. */
    private void uploadLfs(RepoId repo, Push push, Map<String, String> shas, String what, TransferProgress progress) {
        ObjectNode batch = JSON.createObjectNode().put("operation", "upload").put("hash_algo", "sha_256");
        batch.putArray("transfers").add("basic");
        batch.putObject("ref").put("name", push.branch());
        ArrayNode objects = batch.putArray("objects");
        Map<String, String> pathByOid = new LinkedHashMap<>();
        shas.forEach((path, sha) -> {
            objects.addObject().put("oid", sha).put("size", size(push.files().get(path)));
            pathByOid.put(sha, path);
        });
        String prefix = repo.type() == RepoType.MODEL ? "" : repo.type().plural() + "/";
        JsonNode answer = json(request(endpoint + "/" + prefix + repo + ".git/info/lfs/objects/batch")
            .header("Accept", "application/vnd.git-lfs+json").header("Content-Type", "application/vnd.git-lfs+json")
            .POST(HttpRequest.BodyPublishers.ofString(batch.toString())), what + " (LFS batch)");
        List<JsonNode> uploads = new ArrayList<>();
        for (JsonNode object : answer.path("objects")) {
            String oid = object.path("oid").asText();
            if (!pathByOid.containsKey(oid)) throw new HubException.Failure(what + ": LFS batch answered an object it was not asked for: " + oid, null);
            if (object.has("error")) {
                throw new HubException.Invalid(what + ": LFS refused " + push.files().get(pathByOid.get(oid)) + ": " + object.path("error").path("message").asText());
            }
            if (!object.path("actions").path("upload").isMissingNode()) uploads.add(object);
        }
        for (int i = 0; i < uploads.size(); i++) {
            JsonNode object = uploads.get(i);
            String oid = object.path("oid").asText();
            Path file = push.files().get(pathByOid.get(oid));
            FileEntry entry = new FileEntry(pathByOid.get(oid), size(file), oid);
            progress.started(entry, i, uploads.size());
            JsonNode upload = object.path("actions").path("upload");
            HttpRequest.Builder put;
            try {
                put = HttpRequest.newBuilder(URI.create(upload.path("href").asText()))
                    .PUT(reporting(HttpRequest.BodyPublishers.ofFile(file), progress::moved));
            } catch (IOException e) {
                throw new HubException.Failure("cannot read " + file + ": " + e, e);
            }
            upload.path("header").properties().forEach(h -> put.header(h.getKey(), h.getValue().asText()));
            send(put, what + " (upload of " + file + ")");
            JsonNode verify = object.path("actions").path("verify");
            if (!verify.isMissingNode()) {
                HttpRequest.Builder post = HttpRequest.newBuilder(URI.create(verify.path("href").asText()))
                    .header("Content-Type", "application/vnd.git-lfs+json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.createObjectNode().put("oid", oid).put("size", entry.size()).toString()));
                verify.path("header").properties().forEach(h -> post.header(h.getKey(), h.getValue().asText()));
                send(post, what + " (verify of " + file + ")");
            }
            progress.finished(entry);
        }
    }

    /** {@code body}, telling {@code moved} of each buffer as the HTTP client takes it to send. */
    private static HttpRequest.BodyPublisher reporting(HttpRequest.BodyPublisher body, LongConsumer moved) {
        return new HttpRequest.BodyPublisher() {
            @Override
            public long contentLength() {
                return body.contentLength();
            }

            @Override
            public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
                body.subscribe(new Flow.Subscriber<>() {
                    @Override
                    public void onSubscribe(Flow.Subscription subscription) {
                        subscriber.onSubscribe(subscription);
                    }

                    @Override
                    public void onNext(ByteBuffer item) {
                        moved.accept(item.remaining());
                        subscriber.onNext(item);
                    }

                    @Override
                    public void onError(Throwable error) {
                        subscriber.onError(error);
                    }

                    @Override
                    public void onComplete() {
                        subscriber.onComplete();
                    }
                });
            }
        };
    }

    private static void line(StringBuilder ndjson, String key, ObjectNode value) {
        ObjectNode line = JSON.createObjectNode().put("key", key);
        line.set("value", value);
        ndjson.append(line).append('\n');
    }

    @Override
    public void tag(RepoId repo, String name, String revision) {
        send(request(api(repo) + "/tag/" + encode(revision)).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(JSON.createObjectNode().put("tag", name).toString())), "tag " + repo.qualified());
    }

    /** As huggingface_hub's update_repo_settings: {@code PUT .../settings} with {@code private}. */
    @Override
    public RepoInfo setPrivate(RepoId repo, boolean isPrivate) {
        send(request(api(repo) + "/settings").header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(JSON.createObjectNode().put("private", isPrivate).toString())), "change the settings of " + repo.qualified());
        return repoInfo(repo).orElseThrow(() -> new HubException.Failure("server changed " + repo.qualified() + " but does not show it", null));
    }

    /** As huggingface_hub's delete_repo: {@code DELETE /api/repos/delete} with the name, organization and type. */
    @Override
    public void deleteRepo(RepoId repo) {
        ObjectNode body = JSON.createObjectNode().put("name", repo.name()).put("organization", repo.namespace())
            .put("type", repo.type() == RepoType.MODEL ? "model" : "dataset");
        send(request(endpoint + "/api/repos/delete").method("DELETE", HttpRequest.BodyPublishers.ofString(body.toString()))
            .header("Content-Type", "application/json"), "delete " + repo.qualified());
    }

    /** As create_branch: {@code POST .../branch/{name}} with the starting point. */
    @Override
    public void createBranch(RepoId repo, String name, String revision) {
        send(request(api(repo) + "/branch/" + encode(name)).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(JSON.createObjectNode().put("startingPoint", revision).toString())),
            "create branch " + name + " of " + repo.qualified());
    }

    @Override
    public void deleteBranch(RepoId repo, String name) {
        send(request(api(repo) + "/branch/" + encode(name)).DELETE(), "delete branch " + name + " of " + repo.qualified());
    }

    @Override
    public void deleteTag(RepoId repo, String name) {
        send(request(api(repo) + "/tag/" + encode(name)).DELETE(), "delete tag " + name + " of " + repo.qualified());
    }

    // ---- reading

    @Override
    public String resolve(RepoId repo, String revision) {
        return json(request(api(repo) + "/revision/" + encode(revision)), "resolve " + repo.qualified() + "@" + revision).path("sha").asText();
    }

    @Override
    public List<FileEntry> files(RepoId repo, String revision) {
        List<FileEntry> files = new ArrayList<>();
        for (JsonNode node : pages(api(repo) + "/tree/" + encode(revision) + "?recursive=true", "list files of " + repo.qualified())) {
            if (!"file".equals(node.path("type").asText())) continue;
            String sha = node.path("lfs").path("oid").asText(node.path("oid").asText());
            files.add(new FileEntry(node.path("path").asText(), node.path("size").asLong(), SHA256.matcher(sha).matches() ? sha : null));
        }
        return files;
    }

    @Override
    public List<CommitInfo> log(RepoId repo, String revision, int limit) {
        JsonNode page = json(request(api(repo) + "/commits/" + encode(revision) + "?limit=" + (limit + 1)), "log of " + repo.qualified());
        List<CommitInfo> log = new ArrayList<>();
        for (int i = 0; i < Math.min(limit, page.size()); i++) {
            JsonNode node = page.get(i);
            String parent = i + 1 < page.size() ? page.get(i + 1).path("id").asText() : null;
            String body = node.path("message").asText("");
            String author = node.path("authors").path(0).path("user").asText("");
            log.add(new CommitInfo(node.path("id").asText(), parent, author, instant(node.path("date")),
                node.path("title").asText() + (body.isEmpty() ? "" : "\n\n" + body)));
        }
        return log;
    }

    @Override
    public List<Ref> refs(RepoId repo) {
        JsonNode node = json(request(api(repo) + "/refs"), "refs of " + repo.qualified());
        List<Ref> refs = new ArrayList<>();
        for (JsonNode branch : node.path("branches")) refs.add(new Ref(Ref.Kind.BRANCH, branch.path("name").asText(), branch.path("targetCommit").asText()));
        for (JsonNode tag : node.path("tags")) refs.add(new Ref(Ref.Kind.TAG, tag.path("name").asText(), tag.path("targetCommit").asText()));
        return refs;
    }

    @Override
    public InputStream open(RepoId repo, String revision, String path) {
        return get(repo, revision, path, 0).response().body();
    }

    /** Resumes from what a download before left (a Range request), as huggingface_hub does; see {@link CheckedDownload}. */
    @Override
    public Path download(RepoId repo, String revision, String path, Path target, LongConsumer moved) {
        try {
            return CheckedDownload.write(target, kept -> {
                Fetched fetched = get(repo, revision, path, kept);
                return new CheckedDownload.Source(fetched.response().body(), fetched.offset(), fetched.size(), fetched.sha256());
            }, moved);
        } catch (IOException e) {
            throw new HubException.Failure("download of " + repo.qualified() + "@" + revision + "/" + path + " to " + target + " failed: " + e
                + " (what arrived is kept in " + CheckedDownload.partOf(target) + ", and the next download goes on from there)", e);
        }
    }

    /**
     * The file's response, where its bytes start ({@code offset}: 0 unless a range was asked and answered), and what the
     * Hub announced about the whole file: on the Hugging Face Hub a large file's {@code X-Linked-Etag} (its sha256) and
     * {@code X-Linked-Size} come on the redirect to the CDN, not on the CDN's answer, so they are taken from the first hop
     * that has them.
     */
    private record Fetched(HttpResponse<InputStream> response, String sha256, long size, long offset) {
    }

    /** The file from byte {@code from} on (a Range request, on every hop); the whole file where that range is past its end. */
    private Fetched get(RepoId repo, String revision, String path, long from) {
        String prefix = repo.type() == RepoType.MODEL ? "" : repo.type().plural() + "/";
        URI uri = URI.create(endpoint + "/" + prefix + repo + "/resolve/" + encode(revision) + "/" + encodePath(path));
        String what = "download of " + repo.qualified() + "@" + revision + "/" + path;
        String linkedEtag = null;
        long linkedSize = -1;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder builder = HttpRequest.newBuilder(uri).GET();
            if (token != null && sameOrigin(uri, endpoint)) builder.header("Authorization", "Bearer " + token);
            if (from > 0) builder.header("Range", "bytes=" + from + "-");
            HttpResponse<InputStream> response = exchange(builder.build(), HttpResponse.BodyHandlers.ofInputStream(), what);
            if (linkedEtag == null) linkedEtag = response.headers().firstValue("X-Linked-Etag").map(HfHttpClient::unquote).orElse(null);
            if (linkedSize < 0) linkedSize = response.headers().firstValueAsLong("X-Linked-Size").orElse(-1);
            int status = response.statusCode();
            if (status >= 300 && status < 400 && response.headers().firstValue("Location").isPresent()) {
                close(response);
                uri = uri.resolve(response.headers().firstValue("Location").get());
                continue;
            }
            if (status == 416 && from > 0) {
                // What was kept reaches the end of the file or beyond it: it is of another version; take the whole.
                close(response);
                return get(repo, revision, path, 0);
            }
            if (status != 200 && status != 206) {
                String body = readError(response);
                throw error(status, response.headers().firstValue("X-Error-Code").orElse(""), what, body);
            }
            String etag = linkedEtag != null ? linkedEtag : unquote(response.headers().firstValue("ETag").orElse(""));
            if (status == 206) {
                Matcher range = CONTENT_RANGE.matcher(response.headers().firstValue("Content-Range").orElse(""));
                if (!range.matches()) {
                    close(response);
                    throw new HubException.Failure(what + ": a 206 answer without a Content-Range of bytes START-END/TOTAL", null);
                }
                long size = linkedSize >= 0 ? linkedSize : Long.parseLong(range.group(2));
                return new Fetched(response, SHA256.matcher(etag).matches() ? etag : null, size, Long.parseLong(range.group(1)));
            }
            long size = linkedSize >= 0 ? linkedSize : response.headers().firstValueAsLong("Content-Length").orElse(-1);
            return new Fetched(response, SHA256.matcher(etag).matches() ? etag : null, size, 0);
        }
        throw new HubException.Failure(what + ": more than " + MAX_REDIRECTS + " redirects", null);
    }

    // ---- plumbing

    private String api(RepoId repo) {
        return endpoint + "/api/" + repo.type().plural() + "/" + repo;
    }

    private HttpRequest.Builder request(String uri) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(uri)).header("Accept", "application/json");
        if (token != null) builder.header("Authorization", "Bearer " + token);
        return builder;
    }

    private List<JsonNode> pages(String first, String what) {
        List<JsonNode> items = new ArrayList<>();
        for (String uri = first; uri != null; ) {
            HttpResponse<String> response = send(request(uri), what);
            parse(response.body(), what).forEach(items::add);
            uri = response.headers().firstValue("Link").map(NEXT_LINK::matcher).filter(Matcher::find).map(m -> m.group(1)).orElse(null);
        }
        return items;
    }

    private JsonNode json(HttpRequest.Builder request, String what) {
        return parse(send(request, what).body(), what);
    }

    private static JsonNode parse(String body, String what) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new HubException.Failure(what + ": the server's answer is not JSON: " + abbreviate(body), e);
        }
    }

    private HttpResponse<String> send(HttpRequest.Builder request, String what) {
        HttpResponse<String> response = exchange(request.build(), HttpResponse.BodyHandlers.ofString(), what);
        if (response.statusCode() / 100 != 2) {
            throw error(response.statusCode(), response.headers().firstValue("X-Error-Code").orElse(""), what, response.body());
        }
        return response;
    }

    private <T> HttpResponse<T> exchange(HttpRequest request, HttpResponse.BodyHandler<T> handler, String what) {
        try {
            return http.send(request, handler);
        } catch (IOException e) {
            throw new HubException.Failure(what + ": " + request.method() + " " + request.uri() + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException.Failure(what + ": interrupted", e);
        }
    }

    private static HubException error(int status, String code, String what, String body) {
        String message = what + ": HTTP " + status + ": " + errorMessage(body);
        return switch (status) {
            case 401 -> new HubException.Unauthorized(message);
            case 403 -> new HubException.Forbidden(message);
            case 404 -> new HubException.NotFound(switch (code) {
                case "RevisionNotFound" -> HubException.Missing.REVISION;
                case "EntryNotFound" -> HubException.Missing.ENTRY;
                default -> HubException.Missing.REPO;
            }, message);
            case 409, 412 -> new HubException.Conflict(message);
            case 413 -> new HubException.TooLarge(message);
            case 400, 422 -> new HubException.Invalid(message);
            default -> new HubException.Failure(message, null);
        };
    }

    private static String errorMessage(String body) {
        try {
            JsonNode node = JSON.readTree(body);
            if (node != null && node.hasNonNull("error")) return node.get("error").asText();
        } catch (IOException notJson) {
            // an error page that is not JSON is shown as it is
        }
        return abbreviate(body);
    }

    private static String readError(HttpResponse<InputStream> response) {
        try (InputStream in = response.body()) {
            return new String(in.readNBytes(4096), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static void close(HttpResponse<InputStream> response) {
        try {
            response.body().close();
        } catch (IOException ignored) {
            // the redirect's body is not needed
        }
    }

    private static String abbreviate(String text) {
        return text == null ? "" : text.length() > 300 ? text.substring(0, 300) + "..." : text;
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost()) && a.getPort() == b.getPort();
    }

    private static String unquote(String etag) {
        String value = etag.startsWith("W/") ? etag.substring(2) : etag;
        return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"") ? value.substring(1, value.length() - 1) : value;
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String encodePath(String path) {
        StringBuilder encoded = new StringBuilder();
        for (String part : path.split("/")) encoded.append(encoded.isEmpty() ? "" : "/").append(encode(part));
        return encoded.toString();
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new HubException.Failure("cannot read " + file + ": " + e, e);
        }
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new HubException.Failure("cannot read " + file + ": " + e, e);
        }
    }

    private static String sha256(Path file) {
        try {
            return Hashing.sha256(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
