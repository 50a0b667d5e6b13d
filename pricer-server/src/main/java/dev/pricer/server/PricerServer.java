package dev.pricer.server;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import io.javalin.http.staticfiles.Location;
import io.javalin.util.JavalinBindException;

import java.util.List;
import java.util.Map;

/**
 * The one HTTP process: the dashboard, the tracking API and the hub API, each a {@link ServerModule}.
 * It serves the shared page assets ({@code /static/} from the classpath folder {@code web/}, webjars under
 * {@code /webjars/}), the navigation bar's links ({@code /api/nav}), and answers errors under {@code /api/}
 * as JSON {@code {"error": "..."}}.
 */
public final class PricerServer implements AutoCloseable {

    /** Larger request bodies get 413. */
    public static final long MAX_REQUEST_BYTES = 16L << 20;

    private final Javalin app;

    private PricerServer(Javalin app) {
        this.app = app;
    }

    /** Starts on {@code host:port}; port 0 picks a free one (see {@link #port()}). */
    public static PricerServer start(String host, int port, List<ServerModule> modules) {
        List<ServerModule.NavLink> navigation = modules.stream().flatMap(m -> m.navigation().stream()).toList();
        Javalin app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.jetty.host = host;
            config.jetty.port = port;
            config.http.maxRequestSize = MAX_REQUEST_BYTES;
            config.staticFiles.enableWebjars();
            config.staticFiles.add(files -> {
                files.hostedPath = "/static";
                files.directory = "/web";
                files.location = Location.CLASSPATH;
            });
            config.routes.get("/api/health", ctx -> ctx.json(Map.of("status", "ok")));
            config.routes.get("/api/nav", ctx -> ctx.json(navigation));
            config.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), e.getMessage()));
            config.routes.exception(IllegalArgumentException.class, (e, ctx) -> error(ctx, 400, e.getMessage()));
            config.routes.error(404, ctx -> {
                if (ctx.path().startsWith("/api/") && ctx.result() == null) error(ctx, 404, "no such endpoint: " + ctx.method() + " " + ctx.path());
            });
            modules.forEach(module -> module.configure(config));
        });
        try {
            app.start();
        } catch (JavalinBindException e) {
            throw new IllegalStateException("cannot serve on " + host + ":" + port + ": the port is in use by another process;"
                    + " stop that process or pick another port (--port, 0 picks a free one)", e);
        }
        return new PricerServer(app);
    }

    /** Answers with a JSON error body. */
    public static void error(Context ctx, int status, String message) {
        ctx.status(HttpStatus.forStatus(status));
        ctx.json(Map.of("error", message == null ? HttpStatus.forStatus(status).getMessage() : message));
    }

    public int port() {
        return app.port();
    }

    @Override
    public void close() {
        app.stop();
    }
}
