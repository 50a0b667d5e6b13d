package dev.pricer.server.hub;

import dev.pricer.hub.RepoId;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;

/**
 * Signs LFS upload links. Clients PUT large files to the link the batch API hands out without sending their
 * token again (the official clients do not), so the link itself carries the permission: an HMAC over the
 * repository, the object's sha256 and size, and an expiry time, keyed by a secret this process drew at start.
 */
final class UploadSigner {

    private final SecretKeySpec key;

    UploadSigner() {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        this.key = new SecretKeySpec(secret, "HmacSHA256");
    }

    String sign(RepoId repo, String oid, long size, long expiresEpochSecond) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            byte[] message = (repo.qualified() + "\n" + oid + "\n" + size + "\n" + expiresEpochSecond).getBytes(StandardCharsets.UTF_8);
            return HexFormat.of().formatHex(mac.doFinal(message));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    boolean verify(RepoId repo, String oid, long size, long expiresEpochSecond, String signature) {
        if (signature == null || Instant.now().getEpochSecond() > expiresEpochSecond) return false;
        return MessageDigest.isEqual(sign(repo, oid, size, expiresEpochSecond).getBytes(StandardCharsets.US_ASCII),
            signature.getBytes(StandardCharsets.US_ASCII));
    }
}
