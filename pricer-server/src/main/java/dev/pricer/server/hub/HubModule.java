package dev.pricer.server.hub;

import dev.pricer.hub.HubException;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.RepoType;
import dev.pricer.hub.store.HubStore;
import dev.pricer.server.Access;
import dev.pricer.server.ServerModule;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.staticfiles.Location;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The model hub in the server: the Hugging Face Hub API subset (so {@code huggingface_hub}, {@code @huggingface/hub}
 * and Pricer's own client work with {@code HF_ENDPOINT} set to this server), and the hub pages under {@code /hub/}.
 */
public final class HubModule implements ServerModule {

    private final HubStore store;
    private final HfApi api;

    /** Without inference; the dataset viewer's copies in a temporary folder. */
    public HubModule(HubStore store, Access access, HubLimits limits) {
        this(store, access, limits, null, temporaryFolder());
    }

    /**
     * {@code predictions}: how texts are priced on repository pages, or null where the server does not;
     * {@code viewerCache}: where the dataset viewer keeps the split files it reads, by content.
     */
    public HubModule(HubStore store, Access access, HubLimits limits, Predictions predictions, Path viewerCache) {
        this.store = store;
        this.api = new HfApi(store, access, limits, predictions, new DatasetRows(store, viewerCache));
    }

    private static Path temporaryFolder() {
        try {
            return Files.createTempDirectory("pricer-dataset-viewer");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a folder for the dataset viewer: " + e.getMessage(), e);
        }
    }

    /** The store {@link Hubs#store} names, limits from {@code PRICER_HUB_*}. */
    public static HubModule fromEnvironment(Map<String, String> env, Access access) {
        return new HubModule(Hubs.store(env), access, HubLimits.fromEnvironment(env));
    }

    public HubStore store() {
        return store;
    }

    @Override
    public List<NavLink> navigation() {
        return List.of(new NavLink("Models", "/hub/index.html"));
    }

    @Override
    public void configure(JavalinConfig config) {
        var routes = config.routes;
        routes.exception(HubException.class, HubModule::answer);
        routes.post("/api/repos/create", api::createRepo);
        routes.delete("/api/repos/delete", api::deleteRepo);
        routes.get("/api/whoami-v2", api::whoami);
        routes.post("/api/validate-yaml", api::validateYaml);
        routes.get("/api/hub/inference", api::inference);
        for (RepoType type : RepoType.values()) {
            String api = "/api/" + type.plural();
            String repo = api + "/{ns}/{name}";
            String files = (type == RepoType.MODEL ? "" : "/" + type.plural()) + "/{ns}/{name}";
            routes.get(api, ctx -> this.api.listRepos(ctx, type));
            routes.get(repo, ctx -> this.api.repoInfo(ctx, type, false));
            routes.get(repo + "/revision/{rev}", ctx -> this.api.repoInfo(ctx, type, true));
            routes.get(repo + "/tree/{rev}", ctx -> this.api.tree(ctx, type, false));
            routes.get(repo + "/tree/{rev}/<path>", ctx -> this.api.tree(ctx, type, true));
            routes.post(repo + "/paths-info/{rev}", ctx -> this.api.pathsInfo(ctx, type));
            routes.get(repo + "/commits/{rev}", ctx -> this.api.commits(ctx, type));
            routes.get(repo + "/refs", ctx -> this.api.refs(ctx, type));
            routes.put(repo + "/settings", ctx -> this.api.settings(ctx, type));
            routes.post(repo + "/tag/{rev}", ctx -> this.api.tag(ctx, type));
            routes.delete(repo + "/tag/{tag}", ctx -> this.api.deleteTag(ctx, type));
            routes.post(repo + "/branch/{branch}", ctx -> this.api.createBranch(ctx, type));
            routes.delete(repo + "/branch/{branch}", ctx -> this.api.deleteBranch(ctx, type));
            routes.post(repo + "/preupload/{rev}", ctx -> this.api.preupload(ctx, type));
            routes.post(repo + "/commit/{rev}", ctx -> this.api.commit(ctx, type));
            routes.get(repo + "/xet-write-token/{rev}", this.api::noXet);
            routes.get(repo + "/xet-read-token/{rev}", this.api::noXet);
            routes.get(files + "/resolve/{rev}/<path>", ctx -> this.api.resolve(ctx, type, false));
            routes.head(files + "/resolve/{rev}/<path>", ctx -> this.api.resolve(ctx, type, true));
            routes.post(files + "/info/lfs/objects/batch", ctx -> this.api.lfsBatch(ctx, type));
            routes.put("/api/hub/lfs/" + type.plural() + "/{ns}/{name}/{oid}", ctx -> this.api.lfsUpload(ctx, type));
            routes.get("/api/hub/changes/" + type.plural() + "/{ns}/{name}/{rev}", ctx -> this.api.changes(ctx, type));
            routes.get("/api/hub/card/" + type.plural() + "/{ns}/{name}/{rev}", ctx -> this.api.card(ctx, type));
            routes.post("/api/hub/predict/" + type.plural() + "/{ns}/{name}/{rev}", ctx -> this.api.predict(ctx, type));
            routes.get("/api/hub/rows/" + type.plural() + "/{ns}/{name}/{rev}", ctx -> this.api.rows(ctx, type));
        }
        config.staticFiles.add(files -> {
            files.hostedPath = "/hub";
            files.directory = "/dev/pricer/server/hub/pages";
            files.location = Location.CLASSPATH;
        });
    }

    /** Errors as the Hub gives them: a status, {@code X-Error-Code} on 404s, and {@code {"error": ...}}. */
    private static void answer(HubException e, Context ctx) {
        int status = switch (e) {
            case HubException.NotFound notFound -> {
                ctx.header("X-Error-Code", switch (notFound.missing()) {
                    case REPO -> "RepoNotFound";
                    case REVISION -> "RevisionNotFound";
                    case ENTRY -> "EntryNotFound";
                });
                yield 404;
            }
            case HubException.Conflict ignored -> 409;
            case HubException.Invalid ignored -> 400;
            case HubException.TooLarge ignored -> 413;
            case HubException.Unauthorized ignored -> 401;
            case HubException.Forbidden ignored -> 403;
            case HubException.Failure ignored -> 500;
            default -> 500;
        };
        ctx.header("X-Error-Message", e.getMessage().replaceAll("[\\r\\n]", " "));
        ctx.status(status).contentType("application/json")
            .result(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("error", e.getMessage()).toString());
    }
}
