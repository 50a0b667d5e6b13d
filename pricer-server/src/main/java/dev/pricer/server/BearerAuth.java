package dev.pricer.server;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.ForbiddenResponse;
import io.javalin.http.UnauthorizedResponse;

import java.util.Set;
import java.util.function.Predicate;

/**
 * {@code pricer server --auth}: every request that writes (any method but GET, HEAD and OPTIONS) must carry
 * {@code Authorization: Bearer TOKEN} with a token the verifier accepts; reads stay open.
 */
public final class BearerAuth implements ServerModule {

    private static final Set<String> READS = Set.of("GET", "HEAD", "OPTIONS");

    private final Predicate<String> validToken;

    public BearerAuth(Predicate<String> validToken) {
        this.validToken = validToken;
    }

    @Override
    public void configure(JavalinConfig config) {
        config.routes.before(ctx -> {
            if (READS.contains(ctx.method().name())) return;
            String token = bearer(ctx);
            if (token == null) {
                ctx.header("WWW-Authenticate", "Bearer");
                throw new UnauthorizedResponse("this server needs a bearer token for writes (pricer token create)");
            } else if (!validToken.test(token)) {
                throw new ForbiddenResponse("the bearer token is not valid on this server");
            }
        });
    }

    private static String bearer(Context ctx) {
        String header = ctx.header("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) return null;
        String token = header.substring(7).strip();
        return token.isEmpty() ? null : token;
    }
}
