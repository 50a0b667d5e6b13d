package dev.pricer.track.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The server's API tokens, one kind for everything it guards (tracking writes, hub writes, private hub
 * repositories). The store keeps only their SHA-256, so a copied database gives no one access.
 */
public final class Tokens {

    /** What {@code pricer server} used to read hub tokens from, one {@code TOKEN USER [NAMESPACE,...]} a line. */
    public static final String LEGACY_HUB_FILE = "hub-tokens";

    /** A user or namespace name, as the hub allows in a repository id; or {@code *} for every namespace. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,96}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private Tokens() {
    }

    /** A new token: {@code secret} is shown once, the store keeps only its hash. */
    public record Created(String secret, Token token) {
    }

    public static Created create(TrackStore store, String name, String owner, List<String> namespaces) {
        byte[] random = new byte[24];
        RANDOM.nextBytes(random);
        String secret = "pricer_" + HexFormat.of().formatHex(random);
        return new Created(secret, adopt(store, secret, name, owner, namespaces));
    }

    /** Stores a token whose secret already exists (one imported from elsewhere); a known one is left as it is. */
    public static Token adopt(TrackStore store, String secret, String name, String owner, List<String> namespaces) {
        if (name == null || name.isBlank() || name.length() > 200) throw new IllegalArgumentException("a token's name must be 1 to 200 characters");
        checkName("owner", owner);
        if (namespaces.isEmpty()) throw new IllegalArgumentException("a token needs at least one namespace ('*' for all)");
        for (String namespace : namespaces) {
            if (!namespace.equals("*")) checkName("namespace", namespace);
        }
        String hash = sha256(secret);
        Optional<Token> known = store.token(hash);
        if (known.isPresent()) return known.get();
        store.addToken(hash, name, owner, namespaces, System.currentTimeMillis());
        return store.token(hash).orElseThrow();
    }

    /** The active token with this secret; empty for an unknown or revoked one. */
    public static Optional<Token> verify(TrackStore store, String secret) {
        if (secret == null || secret.isBlank()) return Optional.empty();
        return store.token(sha256(secret)).filter(Token::active);
    }

    public static boolean valid(TrackStore store, String secret) {
        return verify(store, secret).isPresent();
    }

    /** Revokes the active token with this id, or the only active one with this name. */
    public static Token revoke(TrackStore store, String idOrName) {
        List<Token> active = store.tokens().stream().filter(Token::active).toList();
        List<Token> matches = active.stream().filter(t -> t.id().equals(idOrName)).toList();
        if (matches.isEmpty()) matches = active.stream().filter(t -> t.name().equals(idOrName)).toList();
        if (matches.isEmpty()) throw new IllegalArgumentException("no active token has id or name '" + idOrName + "' (see: pricer token list)");
        if (matches.size() > 1) {
            throw new IllegalArgumentException(matches.size() + " active tokens are named '" + idOrName + "'; revoke one by its id: "
                    + String.join(", ", matches.stream().map(Token::id).toList()));
        }
        Token token = matches.getFirst();
        store.revokeToken(token.id(), System.currentTimeMillis());
        return store.tokens().stream().filter(t -> t.id().equals(token.id())).findFirst().orElseThrow();
    }

    /**
     * Moves the tokens of a home's old {@value #LEGACY_HUB_FILE} file into the store, then renames the file to
     * {@code hub-tokens.imported} so it is read once. Returns how many tokens it held (0 without the file).
     */
    public static int importLegacyHubTokens(TrackStore store, Path home) {
        Path file = home.resolve(LEGACY_HUB_FILE);
        if (!Files.isRegularFile(file)) return 0;
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            int imported = 0;
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty() || line.startsWith("#")) continue;
                String[] fields = line.split("\\s+");
                if (fields.length < 2 || fields.length > 3) {
                    throw new IllegalArgumentException(file + " line " + (i + 1) + ": expected 'TOKEN USER [NAMESPACE,...]'");
                }
                List<String> namespaces = fields.length == 3 ? List.of(fields[2].split(",")) : List.of(fields[1]);
                try {
                    adopt(store, fields[0], "hub-tokens line " + (i + 1), fields[1], namespaces);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(file + " line " + (i + 1) + ": " + e.getMessage(), e);
                }
                imported++;
            }
            Files.move(file, file.resolveSibling(LEGACY_HUB_FILE + ".imported"), StandardCopyOption.REPLACE_EXISTING);
            return imported;
        } catch (IOException e) {
            throw new StoreException("cannot import the hub tokens of " + file + ": " + e, e);
        }
    }

    private static void checkName(String what, String value) {
        if (value == null || !NAME.matcher(value).matches()) {
            throw new IllegalArgumentException("token " + what + " '" + value + "' must be 1 to 96 of A-Z a-z 0-9 . _ -");
        }
    }

    static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
