package dev.pricer.server;

import io.javalin.config.JavalinConfig;

/**
 * One area of the server (tracking, hub, ...): it adds its routes, handlers and static pages to the
 * configuration before the server starts. The server itself knows only this interface.
 */
public interface ServerModule {

    void configure(JavalinConfig config);
}
