package dev.pricer.server;

import io.javalin.Javalin;

import java.util.List;

/** The one HTTP process: the dashboard, the tracking API and the hub API, each a {@link ServerModule}. */
public final class PricerServer implements AutoCloseable {

    private final Javalin app;

    private PricerServer(Javalin app) {
        this.app = app;
    }

    /** Starts on {@code host:port}; port 0 picks a free one (see {@link #port()}). */
    public static PricerServer start(String host, int port, List<ServerModule> modules) {
        Javalin app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.jetty.host = host;
            config.jetty.port = port;
            config.routes.get("/api/health", ctx -> ctx.json(java.util.Map.of("status", "ok")));
            modules.forEach(module -> module.configure(config));
        });
        app.start();
        return new PricerServer(app);
    }

    public int port() {
        return app.port();
    }

    @Override
    public void close() {
        app.stop();
    }
}
