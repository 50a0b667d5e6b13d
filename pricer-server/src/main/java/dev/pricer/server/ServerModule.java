package dev.pricer.server;

import io.javalin.config.JavalinConfig;

import java.util.List;

/**
 * One area of the server (tracking, hub, ...): it adds its routes, handlers and static pages to the
 * configuration before the server starts. The server itself knows only this interface.
 */
public interface ServerModule {

    void configure(JavalinConfig config);

    /** Links this module adds to every page's navigation bar, in order. */
    default List<NavLink> navigation() {
        return List.of();
    }

    /** A navigation bar entry: {@code href} is a path on this server. */
    record NavLink(String label, String href) {
    }
}
