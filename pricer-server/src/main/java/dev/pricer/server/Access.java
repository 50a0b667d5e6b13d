package dev.pricer.server;

import dev.pricer.track.store.Token;
import dev.pricer.track.store.Tokens;
import dev.pricer.track.store.TrackStore;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.UnauthorizedResponse;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Who is calling: the one check of {@code Authorization: Bearer TOKEN} for every module, against the tokens of the
 * server's track store ({@code pricer token create}). The rule:
 * <ul>
 *   <li>once the store has an active token, every write (tracking and hub) and every read of a private hub
 *       repository needs one; an unknown or revoked token is refused (401) even where none is needed;</li>
 *   <li>while it has none, a server that listens on loopback only (and was not started with {@code --auth}) is open
 *       to its local callers, who act as the user running it; any other server is read-only (public repositories).</li>
 * </ul>
 * The store is asked on each request, so a token created or revoked while the server runs counts at once.
 */
public final class Access {

    /** A caller the server knows: a user and the hub namespaces it may write to and read privately ({@code *}: all). */
    public record Caller(String user, Set<String> namespaces) {
        public Caller {
            namespaces = Set.copyOf(namespaces);
        }

        public boolean isMember(String namespace) {
            return namespaces.contains("*") || namespaces.contains(namespace) || user.equals(namespace);
        }
    }

    private static final Set<String> READS = Set.of("GET", "HEAD", "OPTIONS");
    private static final Pattern USER_NAME = Pattern.compile("[A-Za-z0-9._-]{1,96}");

    private final TrackStore store;
    private final boolean openWithoutTokens;
    private final Caller local;

    /** {@code openWithoutTokens}: whether callers without a token may write while the store has no token. */
    public Access(TrackStore store, boolean openWithoutTokens) {
        this.store = store;
        this.openWithoutTokens = openWithoutTokens;
        String user = System.getProperty("user.name", "");
        this.local = new Caller(USER_NAME.matcher(user).matches() ? user : "local", Set.of("*"));
    }

    /** Open without tokens only when bound to loopback and not asked for tokens: nobody else can reach it. */
    public static Access forServer(TrackStore store, String host, boolean requireTokens) {
        return new Access(store, !requireTokens && isLoopback(host));
    }

    public static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** The caller a request's token names; with no token, the local user while the server is open, else empty. */
    public Optional<Caller> caller(Context ctx) {
        String header = ctx.header("Authorization");
        if (header == null || header.isBlank()) {
            return openWithoutTokens && !store.hasActiveTokens() ? Optional.of(local) : Optional.empty();
        }
        if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) throw unauthorized(ctx, "the Authorization header must be 'Bearer <token>'");
        Token token = Tokens.verify(store, header.substring(7).strip())
                .orElseThrow(() -> unauthorized(ctx, "the bearer token is not valid on this server (unknown or revoked)"));
        return Optional.of(new Caller(token.owner(), Set.copyOf(token.namespaces())));
    }

    /** The caller, who must be known: what every write needs. */
    public Caller requireCaller(Context ctx) {
        return caller(ctx).orElseThrow(() -> unauthorized(ctx, store.hasActiveTokens()
                ? "this server needs a bearer token for writes"
                : "this server is read-only until it has a token (run on it: pricer token create)"));
    }

    /** Guards every write (any method but GET, HEAD and OPTIONS) under these paths, e.g. {@code /api/track/*}. */
    public void guardWrites(JavalinConfig config, String... paths) {
        for (String path : paths) {
            config.routes.before(path, ctx -> {
                if (!READS.contains(ctx.method().name())) requireCaller(ctx);
            });
        }
    }

    /** One line for the server's start message. */
    public String describe() {
        if (store.hasActiveTokens()) return "writes and private repositories need a token";
        return openWithoutTokens ? "open to local callers until a token exists (pricer token create)"
                : "read-only until a token exists (pricer token create)";
    }

    private static UnauthorizedResponse unauthorized(Context ctx, String message) {
        ctx.header("WWW-Authenticate", "Bearer");
        return new UnauthorizedResponse(message);
    }
}
