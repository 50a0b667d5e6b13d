package dev.pricer.server.hub;

import dev.pricer.hub.HubException;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.RepoInfo;
import dev.pricer.hub.store.Hashing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Who may do what. A bearer token names a user and the namespaces it may write to and read privately in
 * ({@code *}: all). Public repositories are readable by anyone; private ones only by their namespace's members.
 * Tokens are kept by their sha256, so a lookup does not compare secrets character by character.
 */
public final class HubAccess {

    /** A caller with a valid token. */
    public record Caller(String user, Set<String> namespaces) {
        public boolean isMember(String namespace) {
            return namespaces.contains("*") || namespaces.contains(namespace);
        }
    }

    private final Map<String, Caller> byTokenHash;

    private HubAccess(Map<String, Caller> byTokenHash) {
        this.byTokenHash = Map.copyOf(byTokenHash);
    }

    /** Token to caller; each caller is also a member of its own user namespace. */
    public static HubAccess of(Map<String, Caller> tokens) {
        Map<String, Caller> hashed = new HashMap<>();
        tokens.forEach((token, caller) -> {
            Set<String> namespaces = new java.util.HashSet<>(caller.namespaces());
            namespaces.add(caller.user());
            hashed.put(hash(token), new Caller(caller.user(), Set.copyOf(namespaces)));
        });
        return new HubAccess(hashed);
    }

    /**
     * Reads a tokens file: one {@code TOKEN USER [NAMESPACE,...]} line per token, {@code #} starts a comment.
     * A missing file means no tokens: the hub is then read-only and shows public repositories only.
     */
    public static HubAccess load(Path file) {
        if (!Files.exists(file)) return of(Map.of());
        Map<String, Caller> tokens = new HashMap<>();
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty() || line.startsWith("#")) continue;
                String[] fields = line.split("\\s+");
                if (fields.length < 2 || fields.length > 3) {
                    throw new HubException.Invalid(file + " line " + (i + 1) + ": expected 'TOKEN USER [NAMESPACE,...]'");
                }
                tokens.put(fields[0], new Caller(fields[1], fields.length == 3 ? Set.of(fields[2].split(",")) : Set.of()));
            }
        } catch (IOException e) {
            throw new HubException.Failure("cannot read hub tokens from " + file + ": " + e, e);
        }
        return of(tokens);
    }

    /** The caller an {@code Authorization} header names; empty when there is none. An unknown token is refused. */
    public Optional<Caller> caller(String authorization) {
        if (authorization == null || authorization.isBlank()) return Optional.empty();
        if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new HubException.Unauthorized("Authorization must be 'Bearer <token>'");
        }
        Caller caller = byTokenHash.get(hash(authorization.substring(7).strip()));
        if (caller == null) throw new HubException.Unauthorized("invalid token");
        return Optional.of(caller);
    }

    public static boolean mayRead(Optional<Caller> caller, RepoInfo repo) {
        return !repo.isPrivate() || caller.filter(c -> c.isMember(repo.id().namespace())).isPresent();
    }

    /** The caller if it may write to {@code repo}'s namespace; else why not. */
    public static Caller requireWrite(Optional<Caller> caller, RepoId repo) {
        Caller who = caller.orElseThrow(() -> new HubException.Unauthorized("a token is needed to write to " + repo.qualified()));
        if (!who.isMember(repo.namespace())) {
            throw new HubException.Forbidden(who.user() + " may not write to namespace '" + repo.namespace() + "'");
        }
        return who;
    }

    private static String hash(String token) {
        return Hashing.sha256(token.getBytes(StandardCharsets.UTF_8));
    }
}
