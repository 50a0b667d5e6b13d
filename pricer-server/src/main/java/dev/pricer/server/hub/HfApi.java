package dev.pricer.server.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pricer.data.read.RowPage;
import dev.pricer.eval.predict.Guess;
import dev.pricer.hub.CheckpointOrigin;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.FileEntry;
import dev.pricer.hub.HubException;
import dev.pricer.hub.HubPaths;
import dev.pricer.hub.Push;
import dev.pricer.hub.Ref;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.RepoInfo;
import dev.pricer.hub.RepoType;
import dev.pricer.hub.store.Blob;
import dev.pricer.hub.store.Change;
import dev.pricer.hub.store.Hashing;
import dev.pricer.hub.store.HubStore;
import dev.pricer.server.Access;
import dev.pricer.server.Access.Caller;
import io.javalin.http.Context;
import jakarta.servlet.http.HttpServletResponse;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The handlers of the Hugging Face Hub API subset: what {@code huggingface_hub} and {@code @huggingface/hub} call
 * to read repositories, download files, and upload (preupload, Git LFS batch with basic transfer, NDJSON commit).
 * Every answer about a private repository the caller may not read is the answer about a missing one.
 */
final class HfApi {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_PAGE = 1000;
    private static final long UPLOAD_LINK_SECONDS = 3600;
    private static final int LFS_POINTER_SIZE = 134;
    /** A model card beyond this is not a card to read on a page. */
    private static final long CARD_LIMIT = 1 << 20;
    /** Few calls into Jetty per gigabyte, yet 100 concurrent downloads fit a 64 MB heap. */
    private static final int COPY_BUFFER = 256 << 10;

    private final HubStore store;
    private final Access access;
    private final HubLimits limits;
    private final UploadSigner signer = new UploadSigner();
    /** Null unless the server prices texts (--inference). */
    private final Predictions predictions;
    private final DatasetRows rows;

    HfApi(HubStore store, Access access, HubLimits limits, Predictions predictions, DatasetRows rows) {
        this.store = store;
        this.access = access;
        this.limits = limits;
        this.predictions = predictions;
        this.rows = rows;
    }

    // ---- access

    private Optional<Caller> caller(Context ctx) {
        return access.caller(ctx);
    }

    private static RepoId repoId(Context ctx, RepoType type) {
        String name = ctx.pathParam("name");
        if (name.endsWith(".git")) name = name.substring(0, name.length() - ".git".length());
        return new RepoId(type, ctx.pathParam("ns"), name);
    }

    private RepoInfo readable(Context ctx, RepoType type) {
        return readable(ctx, repoId(ctx, type));
    }

    /** The repository, if the caller may read it; else not found, as a private repository answers others. */
    private RepoInfo readable(Context ctx, RepoId id) {
        return store.repoInfo(id).filter(repo -> HubAccess.mayRead(caller(ctx), repo)).orElseThrow(() -> HubStore.missingRepo(id));
    }

    private Caller writable(Context ctx, RepoType type) {
        return writable(ctx, repoId(ctx, type));
    }

    private Caller writable(Context ctx, RepoId id) {
        return HubAccess.requireWrite(caller(ctx), readable(ctx, id).id());
    }

    // ---- repositories

    void createRepo(Context ctx) throws IOException {
        JsonNode body = JSON.readTree(ctx.body());
        String typeName = body.path("type").asText("model");
        if (!typeName.equals("model") && !typeName.equals("dataset")) {
            throw new HubException.Invalid("repository type '" + typeName + "' is not supported here (model or dataset)");
        }
        Optional<Caller> caller = caller(ctx);
        String namespace = body.hasNonNull("organization") ? body.get("organization").asText()
            : caller.map(Caller::user).orElseThrow(() -> new HubException.Unauthorized("a token is needed to create a repository"));
        RepoId id = new RepoId(RepoType.parse(typeName), namespace, body.path("name").asText());
        HubAccess.requireWrite(caller, id);
        boolean isPrivate = body.path("private").asBoolean(false) || "private".equals(body.path("visibility").asText());
        if (store.repoInfo(id).isPresent()) {
            ctx.status(409);
            json(ctx, JSON.createObjectNode().put("error", "repository " + id.qualified() + " already exists").put("url", base(ctx) + "/" + id.qualified()));
            return;
        }
        store.createRepo(id, isPrivate);
        json(ctx, JSON.createObjectNode().put("url", base(ctx) + "/" + id.qualified()).put("name", id.toString()).put("id", id.toString()));
    }

    /** As the Hub's {@code DELETE /api/repos/delete} (huggingface_hub's delete_repo): name, organization and type in the body. */
    void deleteRepo(Context ctx) throws IOException {
        JsonNode body = JSON.readTree(ctx.body());
        String typeName = body.path("type").asText("model");
        Optional<Caller> caller = caller(ctx);
        String namespace = body.hasNonNull("organization") ? body.get("organization").asText()
            : caller.map(Caller::user).orElseThrow(() -> new HubException.Unauthorized("a token is needed to delete a repository"));
        RepoId id = new RepoId(RepoType.parse(typeName), namespace, body.path("name").asText());
        writable(ctx, id);
        store.deleteRepo(id);
        json(ctx, JSON.createObjectNode());
    }

    /**
     * As the Hub's {@code PUT /api/models/{repo}/settings} (update_repo_settings): {@code private} true or false, or
     * {@code visibility} private or public, as huggingface_hub 1.x sends it.
     */
    void settings(Context ctx, RepoType type) throws IOException {
        writable(ctx, type);
        JsonNode body = JSON.readTree(ctx.body()), isPrivate = body.get("private"), visibility = body.get("visibility");
        boolean makePrivate;
        if (isPrivate != null && isPrivate.isBoolean()) makePrivate = isPrivate.asBoolean();
        else if (visibility != null && (visibility.asText().equals("private") || visibility.asText().equals("public"))) makePrivate = visibility.asText().equals("private");
        else throw new HubException.Invalid("the body must be {\"private\": true or false} or {\"visibility\": \"private\" or \"public\"}, not " + body);
        json(ctx, repoJson(store.setPrivate(repoId(ctx, type), makePrivate)));
    }

    void repoInfo(Context ctx, RepoType type, boolean atRevision) {
        RepoInfo repo = readable(ctx, type);
        String sha = atRevision ? store.resolve(repo.id(), ctx.pathParam("rev")) : repo.head();
        ObjectNode node = repoJson(repo);
        node.put("sha", sha);
        ArrayNode siblings = node.putArray("siblings");
        if (sha != null) {
            boolean blobs = "true".equals(ctx.queryParam("blobs"));
            for (FileEntry file : store.files(repo.id(), sha)) {
                ObjectNode sibling = siblings.addObject().put("rfilename", file.path());
                if (blobs) {
                    sibling.put("size", file.size()).put("blobId", file.sha256());
                    if (isLfs(file)) sibling.putObject("lfs").put("sha256", file.sha256()).put("size", file.size()).put("pointerSize", LFS_POINTER_SIZE);
                }
            }
        }
        json(ctx, node);
    }

    private static ObjectNode repoJson(RepoInfo repo) {
        ObjectNode node = JSON.createObjectNode().put("_id", repo.id().qualified()).put("id", repo.id().toString());
        if (repo.id().type() == RepoType.MODEL) node.put("modelId", repo.id().toString());
        return node.put("author", repo.id().namespace()).put("sha", repo.head()).put("private", repo.isPrivate())
            .put("disabled", false).put("gated", false)
            .put("createdAt", repo.created().toString()).put("lastModified", repo.lastModified().toString());
    }

    void listRepos(Context ctx, RepoType type) {
        Optional<Caller> caller = caller(ctx);
        String author = ctx.queryParam("author");
        String search = ctx.queryParam("search");
        List<ObjectNode> visible = new ArrayList<>();
        for (RepoInfo repo : store.listRepos(type)) {
            if (!HubAccess.mayRead(caller, repo)) continue;
            if (author != null && !author.equals(repo.id().namespace())) continue;
            if (search != null && !repo.id().toString().toLowerCase().contains(search.toLowerCase())) continue;
            visible.add(repoJson(repo));
        }
        page(ctx, visible);
    }

    void whoami(Context ctx) {
        Caller who = caller(ctx).orElseThrow(() -> new HubException.Unauthorized("no token"));
        ObjectNode node = JSON.createObjectNode().put("type", "user").put("name", who.user());
        ArrayNode orgs = node.putArray("orgs");
        who.namespaces().stream().filter(ns -> !ns.equals(who.user()) && !ns.equals("*")).sorted().forEach(ns -> orgs.addObject().put("name", ns));
        json(ctx, node);
    }

    /**
     * What huggingface_hub asks before it uploads a README.md: is the model card's metadata, the YAML block between
     * its opening "---" lines, valid? Pricer keeps no card schema, so valid means it parses to a mapping. Answers in
     * the Hub's shape, {"errors": [{"message"}], "warnings": []}, with 400 when there are errors.
     */
    void validateYaml(Context ctx) throws IOException {
        JsonNode body = JSON.readTree(ctx.body());
        List<String> errors = new ArrayList<>();
        String type = body.path("repoType").asText("model");
        if (!List.of("model", "dataset", "space").contains(type)) errors.add("repoType '" + type + "' is not model, dataset or space");
        ModelCard.metadataError(body.path("content").asText("")).ifPresent(errors::add);
        ObjectNode answer = JSON.createObjectNode();
        ArrayNode list = answer.putArray("errors");
        errors.forEach(message -> list.addObject().put("message", message));
        answer.putArray("warnings");
        ctx.status(errors.isEmpty() ? 200 : 400);
        json(ctx, answer);
    }

    /**
     * hf_xet's storage tokens. huggingface_hub 1.x uploads every large file through Xet whenever hf_xet is installed,
     * without asking the server; this hub keeps large files in Git LFS, so it says how to make the client use that.
     */
    void noXet(Context ctx) {
        notImplemented(ctx, "this hub stores large files with Git LFS, not Xet: set HF_HUB_DISABLE_XET=1 for huggingface_hub");
    }

    /** 501, with what to do instead, as the Hub's errors carry it (the body's error and X-Error-Message). */
    private static void notImplemented(Context ctx, String message) {
        ctx.header("X-Error-Message", message);
        ctx.status(501);
        json(ctx, JSON.createObjectNode().put("error", message));
    }

    // ---- files

    void tree(Context ctx, RepoType type, boolean withPath) {
        RepoInfo repo = readable(ctx, type);
        String sha = store.resolve(repo.id(), ctx.pathParam("rev"));
        String dir = withPath ? HubPaths.checkPath(stripSlash(ctx.pathParam("path"))) : "";
        boolean recursive = "true".equals(ctx.queryParam("recursive")) || "1".equals(ctx.queryParam("recursive"));
        String prefix = dir.isEmpty() ? "" : dir + "/";
        Map<String, ObjectNode> entries = new TreeMap<>();
        List<FileEntry> files = store.files(repo.id(), sha);
        for (FileEntry file : files) {
            if (!file.path().startsWith(prefix)) continue;
            String[] parts = file.path().substring(prefix.length()).split("/");
            StringBuilder at = new StringBuilder(prefix);
            for (int i = 0; i < parts.length - 1 && (recursive || i == 0); i++) {
                at.append(parts[i]);
                String folder = at.toString();
                entries.computeIfAbsent(folder, path -> folderJson(files, path));
                at.append('/');
            }
            if (recursive || parts.length == 1) entries.put(file.path(), fileJson(file));
        }
        if (!dir.isEmpty() && entries.isEmpty()) {
            throw new HubException.NotFound(HubException.Missing.ENTRY, "'" + dir + "' is not a folder of " + repo.id().qualified() + "@" + ctx.pathParam("rev"));
        }
        page(ctx, List.copyOf(entries.values()));
    }

    /**
     * As the Hub's {@code POST .../paths-info/{rev}} (huggingface_hub's get_paths_info): the entries, file or folder, of
     * the paths asked for ({@code paths}, repeated, form-encoded as huggingface_hub sends them, or a JSON list); paths
     * that are not there are left out.
     */
    void pathsInfo(Context ctx, RepoType type) throws IOException {
        RepoInfo repo = readable(ctx, type);
        String sha = store.resolve(repo.id(), ctx.pathParam("rev"));
        List<String> asked = new ArrayList<>();
        if (ctx.contentType() != null && ctx.contentType().startsWith("application/json")) {
            JSON.readTree(ctx.body()).path("paths").forEach(path -> asked.add(path.asText()));
        } else {
            asked.addAll(ctx.formParams("paths"));
        }
        List<FileEntry> files = store.files(repo.id(), sha);
        ArrayNode found = JSON.createArrayNode();
        for (String path : asked) {
            String clean = stripSlash(path);
            files.stream().filter(f -> f.path().equals(clean)).findFirst().ifPresentOrElse(f -> found.add(fileJson(f)), () -> {
                if (files.stream().anyMatch(f -> f.path().startsWith(clean + "/"))) found.add(folderJson(files, clean));
            });
        }
        ctx.contentType("application/json").result(found.toString());
    }

    /** A folder as the tree lists it, with the id huggingface_hub requires of it. */
    private static ObjectNode folderJson(List<FileEntry> files, String folder) {
        return JSON.createObjectNode().put("type", "directory").put("oid", folderId(files, folder)).put("size", 0).put("path", folder);
    }

    /**
     * A folder's id, which the Hub gives as its git tree's sha and huggingface_hub requires of every folder it lists
     * (RepoFolder's tree_id): here the sha1 of the paths and contents under it, so it changes exactly when they do.
     */
    private static String folderId(List<FileEntry> files, String folder) {
        StringBuilder listing = new StringBuilder();
        for (FileEntry file : files) {
            if (file.path().startsWith(folder + "/")) listing.append(file.path()).append('\0').append(file.sha256()).append('\n');
        }
        return Hashing.sha1(listing.toString().getBytes(StandardCharsets.UTF_8));
    }

    private ObjectNode fileJson(FileEntry file) {
        ObjectNode node = JSON.createObjectNode().put("type", "file").put("oid", file.sha256()).put("size", file.size()).put("path", file.path());
        if (isLfs(file)) node.putObject("lfs").put("oid", file.sha256()).put("size", file.size()).put("pointerSize", LFS_POINTER_SIZE);
        return node;
    }

    private boolean isLfs(FileEntry file) {
        return file.size() >= limits.lfsThreshold();
    }

    /** {@code GET} or {@code HEAD /{repo}/resolve/{rev}/{path}}: the file, or a byte range of it (206). */
    void resolve(Context ctx, RepoType type, boolean head) throws IOException {
        RepoInfo repo = readable(ctx, type);
        String rev = ctx.pathParam("rev");
        String sha = store.resolve(repo.id(), rev);
        String path = HubPaths.checkPath(ctx.pathParam("path"));
        FileEntry file = store.file(repo.id(), sha, path).orElseThrow(() -> new HubException.NotFound(
            HubException.Missing.ENTRY, "'" + path + "' is not in " + repo.id().qualified() + "@" + rev));
        ctx.disableCompression();
        HttpServletResponse response = ctx.res();
        response.setHeader("X-Repo-Commit", sha);
        response.setHeader("ETag", "\"" + file.sha256() + "\"");
        if (isLfs(file)) {
            response.setHeader("X-Linked-Etag", "\"" + file.sha256() + "\"");
            response.setHeader("X-Linked-Size", Long.toString(file.size()));
        }
        response.setHeader("Accept-Ranges", "bytes");
        response.setHeader("Content-Disposition", "inline; filename*=UTF-8''" + URLEncoder.encode(path.substring(path.lastIndexOf('/') + 1), StandardCharsets.UTF_8).replace("+", "%20"));
        response.setContentType("application/octet-stream");
        ByteRange range;
        try {
            range = ByteRange.parse(ctx.header("Range"), file.size());
        } catch (ByteRange.Unsatisfiable e) {
            response.setStatus(416);
            response.setHeader("Content-Range", "bytes */" + e.total);
            response.setContentLengthLong(0);
            return;
        }
        long offset = range == null ? 0 : range.start();
        long length = range == null ? file.size() : range.length();
        if (range != null) {
            response.setStatus(206);
            response.setHeader("Content-Range", range.contentRange());
        } else {
            response.setStatus(200);
        }
        response.setContentLengthLong(length);
        if (head) return;
        try (InputStream in = store.openBlob(file.sha256(), offset, length); OutputStream out = response.getOutputStream()) {
            byte[] buffer = new byte[COPY_BUFFER];
            for (int n; (n = in.read(buffer)) > 0; ) out.write(buffer, 0, n);
        }
    }

    // ---- history

    void commits(Context ctx, RepoType type) {
        RepoInfo repo = readable(ctx, type);
        String sha = store.resolve(repo.id(), ctx.pathParam("rev"));
        int limit = intParam(ctx, "limit", 50, 1, MAX_PAGE);
        int page = intParam(ctx, "p", 0, 0, Integer.MAX_VALUE);
        List<CommitInfo> log = store.log(repo.id(), sha, page * limit, limit + 1);
        Map<String, List<String>> tags = Ref.tagsByCommit(store.refs(repo.id()));
        ArrayNode items = JSON.createArrayNode();
        for (CommitInfo commit : log.subList(0, Math.min(limit, log.size()))) {
            String[] titleAndBody = commit.message().split("\n\n", 2);
            ObjectNode node = items.addObject().put("id", commit.sha()).put("title", titleAndBody[0])
                .put("message", titleAndBody.length > 1 ? titleAndBody[1] : "").put("date", commit.time().toString());
            node.putArray("authors").addObject().put("user", commit.author()).put("avatar", "");
            ArrayNode parents = node.putArray("parents");
            if (commit.parent() != null) parents.add(commit.parent());
            putOrigin(node, commit, tags);
        }
        if (log.size() > limit) link(ctx, "p", Integer.toString(page + 1));
        json(ctx, items);
    }

    void refs(Context ctx, RepoType type) {
        RepoInfo repo = readable(ctx, type);
        ObjectNode node = JSON.createObjectNode();
        ArrayNode branches = node.putArray("branches"), tags = node.putArray("tags");
        node.putArray("converts");
        for (Ref ref : store.refs(repo.id())) {
            boolean branch = ref.kind() == Ref.Kind.BRANCH;
            (branch ? branches : tags).addObject().put("name", ref.name())
                .put("ref", (branch ? "refs/heads/" : "refs/tags/") + ref.name()).put("targetCommit", ref.target());
        }
        json(ctx, node);
    }

    /** Pricer's own fields on a checkpoint commit: {@code step}, and {@code run} (the tracked run's id) when known. */
    private static void putOrigin(ObjectNode node, CommitInfo commit, Map<String, List<String>> tags) {
        CheckpointOrigin.of(commit, tags.getOrDefault(commit.sha(), List.of())).ifPresent(origin -> {
            node.put("step", origin.step());
            if (origin.runId() != null) node.put("run", origin.runId());
        });
    }

    /** Pricer's own: what a commit added, changed and removed, for the commit page; with its tags, step and run. */
    void changes(Context ctx, RepoType type) {
        RepoInfo repo = readable(ctx, type);
        String sha = store.resolve(repo.id(), ctx.pathParam("rev"));
        CommitInfo commit = store.commitInfo(repo.id(), sha);
        ObjectNode node = JSON.createObjectNode().put("id", sha).put("parent", commit.parent()).put("author", commit.author())
            .put("date", commit.time().toString()).put("message", commit.message());
        Map<String, List<String>> tags = Ref.tagsByCommit(store.refs(repo.id()));
        ArrayNode tagNames = node.putArray("tags");
        tags.getOrDefault(sha, List.of()).forEach(tagNames::add);
        putOrigin(node, commit, tags);
        ArrayNode changes = node.putArray("changes");
        for (Change change : store.changes(repo.id(), sha)) {
            changes.addObject().put("path", change.path()).put("kind", change.kind().name().toLowerCase())
                .put("oldSize", change.oldSize()).put("newSize", change.newSize());
        }
        json(ctx, node);
    }

    /**
     * The repository's model card (README.md) at a revision, rendered for its page: {@code sha}, {@code metadata},
     * {@code html}; EntryNotFound when that commit has none.
     */
    void card(Context ctx, RepoType type) throws IOException {
        RepoInfo repo = readable(ctx, type);
        String sha = store.resolve(repo.id(), ctx.pathParam("rev"));
        FileEntry readme = store.file(repo.id(), sha, ModelCard.PATH).orElseThrow(() -> new HubException.NotFound(
            HubException.Missing.ENTRY, repo.id().qualified() + "@" + sha.substring(0, 7) + " has no " + ModelCard.PATH));
        if (readme.size() > CARD_LIMIT) {
            throw new HubException.TooLarge(ModelCard.PATH + " of " + repo.id().qualified() + " is " + readme.size() + " bytes, more than the "
                + CARD_LIMIT + " a page shows");
        }
        String text;
        try (InputStream in = store.openBlob(readme.sha256(), 0, readme.size())) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        json(ctx, ModelCard.render(text).put("sha", sha));
    }

    /**
     * The dataset viewer: {@code ?split=train&offset=0&length=20} of a dataset repository at a revision, with the
     * splits it has, the columns, the rows and how many the split holds.
     */
    void rows(Context ctx, RepoType type) throws IOException {
        RepoInfo repo = readable(ctx, type);
        String sha = store.resolve(repo.id(), ctx.pathParam("rev"));
        Map<String, List<FileEntry>> splits = rows.splits(repo.id(), sha);
        String split = ctx.queryParam("split") != null ? ctx.queryParam("split") : splits.containsKey("train") || splits.isEmpty() ? "train"
            : splits.keySet().iterator().next();
        RowPage page = rows.page(repo.id(), sha, split, number(ctx, "offset", 0), (int) number(ctx, "length", 20));
        ObjectNode answer = JSON.createObjectNode().put("sha", sha).put("split", split);
        splits.keySet().forEach(answer.putArray("splits")::add);
        page.columns().forEach(answer.putArray("columns")::add);
        answer.set("rows", JSON.valueToTree(page.rows()));
        json(ctx, answer.put("offset", page.offset()).put("total", page.total()));
    }

    private static long number(Context ctx, String name, long fallback) {
        String text = ctx.queryParam(name);
        if (text == null || text.isBlank()) return fallback;
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new HubException.Invalid("query parameter '" + name + "' is not a whole number: '" + text + "'");
        }
    }

    /** Whether this server prices texts (--inference): the repository page shows its Try it box only then. */
    void inference(Context ctx) {
        json(ctx, JSON.createObjectNode().put("enabled", predictions != null));
    }

    /**
     * Prices {@code {"texts": [...]}} with the adapter repository at a revision: {@code sha} and {@code predictions}
     * ({@code text}, {@code price}, {@code miss}). 501 when the server was started without --inference.
     */
    void predict(Context ctx, RepoType type) throws IOException {
        if (predictions == null) {
            notImplemented(ctx, "this server prices texts only when started with --inference (pricer server --inference)");
            return;
        }
        Optional<Caller> caller = caller(ctx);
        // A model's time is the server's: once it has tokens, only their holders spend it.
        if (caller.isEmpty()) throw new HubException.Unauthorized("pricing texts on this server needs a token (pricer token create; the dashboard keeps one)");
        RepoInfo repo = readable(ctx, type);
        JsonNode texts = JSON.readTree(ctx.body()).path("texts");
        if (!texts.isArray()) throw new HubException.Invalid("the body must be {\"texts\": [\"a product's description\", ...]}");
        List<String> asked = new ArrayList<>();
        for (JsonNode text : texts) {
            if (!text.isTextual() || text.asText().isBlank()) throw new HubException.Invalid("each text must be a string with something to price");
            asked.add(text.asText());
        }
        String sha = store.resolve(repo.id(), ctx.pathParam("rev"));
        List<Guess> guesses;
        try {
            guesses = predictions.price(repo.id(), sha, asked, id -> store.repoInfo(id).filter(r -> HubAccess.mayRead(caller, r)).isPresent());
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new HubException.Invalid(e.getMessage());
        }
        ObjectNode answer = JSON.createObjectNode().put("sha", sha);
        ArrayNode rows = answer.putArray("predictions");
        for (int i = 0; i < asked.size(); i++) {
            rows.addObject().put("text", asked.get(i)).put("price", guesses.get(i).price()).put("miss", guesses.get(i).miss());
        }
        json(ctx, answer);
    }

    // ---- writing

    void tag(Context ctx, RepoType type) throws IOException {
        writable(ctx, type);
        JsonNode body = JSON.readTree(ctx.body());
        store.tag(repoId(ctx, type), body.path("tag").asText(), ctx.pathParam("rev"));
        json(ctx, JSON.createObjectNode());
    }

    void deleteTag(Context ctx, RepoType type) {
        writable(ctx, type);
        store.deleteTag(repoId(ctx, type), ctx.pathParam("tag"));
        json(ctx, JSON.createObjectNode());
    }

    /** As create_branch: the branch at {@code startingPoint}, else at main's head; {@code overwrite} moves one that exists. */
    void createBranch(Context ctx, RepoType type) throws IOException {
        writable(ctx, type);
        JsonNode body = ctx.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(ctx.body());
        if (body.path("emptyBranch").asBoolean(false)) {
            throw new HubException.Invalid("empty branches are not served here: a branch points at a commit (give startingPoint, or none for main)");
        }
        JsonNode start = body.get("startingPoint");
        store.createBranch(repoId(ctx, type), ctx.pathParam("branch"), start == null || start.isNull() ? Push.MAIN : start.asText(),
            body.path("overwrite").asBoolean(false));
        json(ctx, JSON.createObjectNode());
    }

    void deleteBranch(Context ctx, RepoType type) {
        writable(ctx, type);
        store.deleteBranch(repoId(ctx, type), ctx.pathParam("branch"));
        json(ctx, JSON.createObjectNode());
    }

    void preupload(Context ctx, RepoType type) throws IOException {
        writable(ctx, type);
        JsonNode body = JSON.readTree(ctx.body());
        ArrayNode files = JSON.createArrayNode();
        for (JsonNode file : body.path("files")) {
            String path = HubPaths.checkPath(file.path("path").asText(null));
            long size = file.path("size").asLong(-1);
            if (size > limits.maxFile()) throw new HubException.TooLarge("'" + path + "' has " + size + " bytes, over the limit of " + limits.maxFile());
            files.addObject().put("path", path).put("uploadMode", size >= limits.lfsThreshold() ? "lfs" : "regular").put("shouldIgnore", false);
        }
        ObjectNode answer = JSON.createObjectNode();
        answer.set("files", files);
        json(ctx, answer);
    }

    /** The Git LFS batch API, upload operation, basic transfer: a signed PUT link for each object not stored yet. */
    void lfsBatch(Context ctx, RepoType type) throws IOException {
        RepoId id = repoId(ctx, type);
        writable(ctx, type);
        JsonNode body = JSON.readTree(ctx.body());
        if (!"upload".equals(body.path("operation").asText())) {
            throw new HubException.Invalid("only the LFS 'upload' operation is served; download files through /resolve/{rev}/{path}");
        }
        ArrayNode objects = JSON.createArrayNode();
        for (JsonNode object : body.path("objects")) {
            String oid = object.path("oid").asText();
            long size = object.path("size").asLong(-1);
            ObjectNode answer = objects.addObject().put("oid", oid).put("size", size);
            if (!oid.matches("[0-9a-f]{64}") || size < 0) {
                answer.putObject("error").put("code", 422).put("message", "oid must be a sha256 and size a number of bytes");
            } else if (size > limits.maxFile()) {
                answer.putObject("error").put("code", 422).put("message", "size " + size + " is over the limit of " + limits.maxFile() + " bytes");
            } else if (!store.isUploaded(id, oid)) {
                long expires = Instant.now().getEpochSecond() + UPLOAD_LINK_SECONDS;
                String href = base(ctx) + "/api/hub/lfs/" + type.plural() + "/" + id + "/" + oid + "?size=" + size
                    + "&expires=" + expires + "&signature=" + signer.sign(id, oid, size, expires);
                answer.put("authenticated", true).putObject("actions").putObject("upload").put("href", href).put("expires_in", UPLOAD_LINK_SECONDS);
            }
        }
        ObjectNode answer = JSON.createObjectNode().put("transfer", "basic").put("hash_algo", "sha256");
        answer.set("objects", objects);
        ctx.contentType("application/vnd.git-lfs+json").result(answer.toString());
    }

    /** The PUT an LFS upload link points at: the body is stored only if it has the signed sha256 and size. */
    void lfsUpload(Context ctx, RepoType type) {
        RepoId id = repoId(ctx, type);
        String oid = HubPaths.checkSha256(ctx.pathParam("oid"));
        long size = longParam(ctx, "size");
        long expires = longParam(ctx, "expires");
        if (!signer.verify(id, oid, size, expires, ctx.queryParam("signature"))) {
            throw new HubException.Forbidden("upload link for " + oid + " is invalid or expired; ask the batch API for a new one");
        }
        Blob blob = store.ingest(ctx.bodyInputStream(), oid, size, limits.maxFile());
        store.markUploaded(id, blob.sha256());
        json(ctx, JSON.createObjectNode());
    }

    /** The NDJSON commit: a header line, then file (base64 or utf-8), lfsFile and deletedFile lines. */
    void commit(Context ctx, RepoType type) throws IOException {
        RepoId id = repoId(ctx, type);
        Caller caller = writable(ctx, type);
        if (ctx.queryParam("create_pr") != null && !"0".equals(ctx.queryParam("create_pr"))) {
            throw new HubException.Invalid("pull requests are not supported by this hub");
        }
        String summary = null, description = null, parent = null;
        Map<String, Blob> additions = new LinkedHashMap<>();
        Set<String> deletions = new HashSet<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(limited(ctx.bodyInputStream(), limits.maxCommitBody()), StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                if (line.isBlank()) continue;
                JsonNode entry = JSON.readTree(line);
                JsonNode value = entry.path("value");
                switch (entry.path("key").asText()) {
                    case "header" -> {
                        summary = value.path("summary").asText(null);
                        description = value.path("description").asText(null);
                        parent = value.hasNonNull("parentCommit") ? value.get("parentCommit").asText() : null;
                    }
                    case "file" -> {
                        String path = HubPaths.checkPath(value.path("path").asText(null));
                        String content = value.path("content").asText("");
                        byte[] bytes = "base64".equals(value.path("encoding").asText()) ? decodeBase64(path, content) : content.getBytes(StandardCharsets.UTF_8);
                        if (bytes.length > limits.maxInlineFile()) {
                            throw new HubException.TooLarge("'" + path + "' has " + bytes.length + " bytes, over the inline limit of " + limits.maxInlineFile() + "; send it through LFS");
                        }
                        additions.put(path, store.ingest(new ByteArrayInputStream(bytes), null, bytes.length, limits.maxInlineFile()));
                    }
                    case "lfsFile" -> {
                        String path = HubPaths.checkPath(value.path("path").asText(null));
                        if (value.has("algo") && !"sha256".equals(value.get("algo").asText())) {
                            throw new HubException.Invalid("'" + path + "': LFS algo must be sha256");
                        }
                        String oid = HubPaths.checkSha256(value.path("oid").asText(null));
                        long size = value.path("size").asLong(-1);
                        if (!store.isUploaded(id, oid) || store.blob(oid).map(Blob::size).orElse(-1L) != size) {
                            throw new HubException.Invalid("'" + path + "': LFS object " + oid + " of " + size + " bytes was not uploaded to " + id.qualified());
                        }
                        additions.put(path, new Blob(oid, size));
                    }
                    case "deletedFile" -> deletions.add(HubPaths.checkPath(value.path("path").asText(null)));
                    default -> throw new HubException.Invalid("commit line with unknown key '" + entry.path("key").asText() + "'");
                }
            }
        }
        if (summary == null || summary.isBlank()) throw new HubException.Invalid("commit header with a summary is missing");
        String message = description == null || description.isBlank() ? summary : summary + "\n\n" + description;
        CommitInfo commit = store.commit(id, HubPaths.checkRef(ctx.pathParam("rev")), additions, deletions, message, caller.user(), parent);
        json(ctx, JSON.createObjectNode().put("success", true).put("commitOid", commit.sha())
            .put("commitUrl", base(ctx) + "/" + id.qualified() + "/commit/" + commit.sha()).put("hookOutput", ""));
    }

    private static byte[] decodeBase64(String path, String content) {
        try {
            return Base64.getDecoder().decode(content);
        } catch (IllegalArgumentException e) {
            throw new HubException.Invalid("'" + path + "': content is not valid base64");
        }
    }

    private static InputStream limited(InputStream in, long max) {
        return new FilterInputStream(in) {
            private long read;

            private int count(int n) {
                if (n > 0 && (read += n) > max) throw new HubException.TooLarge("commit body is over the limit of " + max + " bytes");
                return n;
            }

            @Override
            public int read() throws IOException {
                int b = super.read();
                count(b < 0 ? 0 : 1);
                return b;
            }

            @Override
            public int read(byte[] buffer, int off, int len) throws IOException {
                return count(super.read(buffer, off, len));
            }
        };
    }

    // ---- answers

    private static void json(Context ctx, JsonNode node) {
        ctx.contentType("application/json").result(node.toString());
    }

    private static String base(Context ctx) {
        return ctx.scheme() + "://" + ctx.host();
    }

    /** One page of {@code items} by {@code cursor} (an offset) and {@code limit}, with a {@code Link} to the next. */
    private static void page(Context ctx, List<ObjectNode> items) {
        int limit = intParam(ctx, "limit", MAX_PAGE, 1, MAX_PAGE);
        int from = intParam(ctx, "cursor", 0, 0, Integer.MAX_VALUE);
        ArrayNode page = JSON.createArrayNode();
        items.subList(Math.min(from, items.size()), Math.min(items.size(), from + limit)).forEach(page::add);
        if (from + limit < items.size()) link(ctx, "cursor", Integer.toString(from + limit));
        json(ctx, page);
    }

    private static void link(Context ctx, String param, String value) {
        StringBuilder query = new StringBuilder();
        ctx.queryParamMap().forEach((key, values) -> {
            if (!key.equals(param)) values.forEach(v -> query.append(query.isEmpty() ? "" : "&").append(encode(key)).append('=').append(encode(v)));
        });
        query.append(query.isEmpty() ? "" : "&").append(param).append('=').append(value);
        ctx.header("Link", "<" + base(ctx) + ctx.path() + "?" + query + ">; rel=\"next\"");
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }

    private static int intParam(Context ctx, String name, int fallback, int min, int max) {
        String value = ctx.queryParam(name);
        if (value == null) return fallback;
        try {
            return Math.max(min, Math.min(max, Integer.parseInt(value)));
        } catch (NumberFormatException e) {
            throw new HubException.Invalid("query parameter " + name + "='" + value + "' is not a number");
        }
    }

    private static long longParam(Context ctx, String name) {
        try {
            return Long.parseLong(ctx.queryParam(name));
        } catch (NumberFormatException e) {
            throw new HubException.Invalid("query parameter " + name + "='" + ctx.queryParam(name) + "' is not a number");
        }
    }

    private static String stripSlash(String path) {
        return path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }
}
