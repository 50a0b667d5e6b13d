package dev.pricer.track.store;

import java.util.List;

/**
 * An API token as the store knows it, without its secret. {@code id} is the start of the secret's sha256: enough
 * to name the token in {@code pricer token list} and {@code revoke}, useless to anyone who wants to use it.
 * {@code owner} is the user the server takes the caller for (the author of its hub commits); {@code namespaces}
 * are the hub namespaces it may write to and read privately ({@code *}: all; its owner's own always).
 */
public record Token(String id, String name, String owner, List<String> namespaces, long createdMs, Long revokedMs) {

    static final int ID_LENGTH = 12;

    public Token {
        namespaces = List.copyOf(namespaces);
    }

    public boolean active() {
        return revokedMs == null;
    }
}
