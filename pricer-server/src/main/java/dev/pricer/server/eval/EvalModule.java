package dev.pricer.server.eval;

import dev.pricer.eval.results.ResultStore;
import dev.pricer.server.ServerModule;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.NotFoundResponse;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The leaderboard of every model, revision and baseline evaluated on each dataset, and their scatter charts. */
public final class EvalModule implements ServerModule {

    private static final Pattern REVISION = Pattern.compile("([A-Za-z0-9._-]+/[A-Za-z0-9._-]+)@([0-9a-f]{7})(?: |$)");

    private final ResultStore results;

    public EvalModule(ResultStore results) {
        this.results = results;
    }

    @Override
    public void configure(JavalinConfig config) {
        config.routes.get("/api/eval", ctx -> {
            Map<String, List<ResultStore.Entry>> boards = new LinkedHashMap<>();
            for (String d : results.datasets()) boards.put(d, results.leaderboard(d));
            ctx.json(boards);
        });
        // The results of one model revision, for its page in the hub.
        config.routes.get("/api/eval/models/{ns}/{name}/{sha}", ctx ->
                ctx.json(results.ofRevision(ctx.pathParam("ns") + "/" + ctx.pathParam("name"), ctx.pathParam("sha"))));
        config.routes.get("/eval", this::page);
        config.routes.get("/eval/chart/{dataset}/{id}", this::chart);
    }

    @Override
    public List<NavLink> navigation() {
        return List.of(new NavLink("Evaluation", "/eval"));
    }

    private void chart(Context ctx) throws IOException {
        Path png = results.chart(ctx.pathParam("dataset"), ctx.pathParam("id"));
        if (!Files.isRegularFile(png)) throw new NotFoundResponse("no chart " + ctx.pathParam("dataset") + "/" + ctx.pathParam("id"));
        ctx.contentType("image/png").result(Files.readAllBytes(png));
    }

    private void page(Context ctx) {
        StringBuilder html = new StringBuilder("<!doctype html><html><head><meta charset=utf-8><title>Pricer: evaluation</title>"
                + "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:4px 10px;"
                + "border-bottom:1px solid #ddd;text-align:right}td:nth-child(2),th:nth-child(2){text-align:left}</style></head><body>"
                + "<h1>Leaderboard</h1>");
        List<String> datasets = results.datasets();
        if (datasets.isEmpty()) html.append("<p>No evaluations yet: run <code>pricer eval</code>.</p>");
        for (String d : datasets) {
            html.append("<h2>").append(escape(d)).append("</h2><table><tr><th>#</th><th>model</th><th>avg error</th><th>RMSLE</th>"
                    + "<th>hits</th><th>misses</th><th>items</th><th>chart</th></tr>");
            int rank = 0;
            for (ResultStore.Entry e : results.leaderboard(d)) {
                html.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%s</td><td>$%,.2f</td><td>%.3f</td><td>%.1f%%</td><td>%d</td><td>%d</td>"
                                + "<td><a href=\"/eval/chart/%s/%s\">scatter</a></td></tr>", ++rank, modelCell(e.name()), e.averageError(), e.rmsle(),
                        e.hits(), e.misses(), e.items(), escape(d), escape(e.id())));
            }
            html.append("</table>");
        }
        ctx.html(html.append("<script src=\"/static/shared/nav.js\"></script></body></html>").toString());
    }

    /** A model revision's name ({@code repo@sha7 (step N)}) links to its page in the hub; a baseline's stays text. */
    private static String modelCell(String name) {
        Matcher revision = REVISION.matcher(name);
        if (!revision.lookingAt()) return escape(name);
        String href = "/hub/repo.html?type=models&repo=" + URLEncoder.encode(revision.group(1), StandardCharsets.UTF_8) + "&rev=" + revision.group(2);
        return "<a href=\"" + escape(href) + "\">" + escape(name) + "</a>";
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&#39;");
    }
}
