package dev.pricer.track.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/** API tokens: the store keeps only their SHA-256, so a copied database gives no one write access. */
public final class Tokens {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Tokens() {
    }

    /** Makes a token, stores its hash, and returns the token itself (shown once). */
    public static String create(TrackStore store, String name) {
        byte[] secret = new byte[24];
        RANDOM.nextBytes(secret);
        String token = "pricer_" + HexFormat.of().formatHex(secret);
        store.addToken(sha256(token), name);
        return token;
    }

    public static boolean valid(TrackStore store, String token) {
        return token != null && store.hasToken(sha256(token));
    }

    static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
