package dev.pricer.track.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokensTest {

    @TempDir
    Path home;

    @Test
    void aTokenNamesItsUserAndNamespacesUntilRevoked() {
        try (TrackStore store = TrackStore.openHome(home)) {
            assertFalse(store.hasActiveTokens());
            Tokens.Created created = Tokens.create(store, "ci", "alice", List.of("team", "lab"));
            Token token = Tokens.verify(store, created.secret()).orElseThrow();
            assertEquals(created.token(), token);
            assertEquals("alice", token.owner());
            assertEquals(List.of("team", "lab"), token.namespaces());
            assertEquals(Tokens.sha256(created.secret()).substring(0, 12), token.id());
            assertTrue(store.hasActiveTokens());
            assertTrue(Tokens.verify(store, created.secret() + "x").isEmpty());
            assertTrue(Tokens.verify(store, null).isEmpty());

            Token revoked = Tokens.revoke(store, token.id());
            assertFalse(revoked.active());
            assertTrue(Tokens.verify(store, created.secret()).isEmpty());
            assertFalse(store.hasActiveTokens());
            assertEquals(1, store.tokens().size(), "a revoked token stays listed");
            assertThrows(IllegalArgumentException.class, () -> Tokens.revoke(store, token.id()));
        }
    }

    @Test
    void badUsersAndNamespacesAreRefused() {
        try (TrackStore store = TrackStore.openHome(home)) {
            var e = assertThrows(IllegalArgumentException.class, () -> Tokens.create(store, "x", "a/b", List.of("*")));
            assertTrue(e.getMessage().contains("'a/b'"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Tokens.create(store, "x", "a", List.of("ok", "not ok")));
            assertThrows(IllegalArgumentException.class, () -> Tokens.create(store, "x", "a", List.of()));
            assertTrue(store.tokens().isEmpty());
        }
    }

    @Test
    void theOldHubTokensFileIsImportedOnceAndRenamed() throws Exception {
        Files.writeString(home.resolve(Tokens.LEGACY_HUB_FILE), """
                # token user namespaces
                hf_admin admin *
                hf_alice alice team,lab

                hf_bob bob
                """);
        try (TrackStore store = TrackStore.openHome(home)) {
            assertEquals(3, Tokens.importLegacyHubTokens(store, home));
            assertEquals(List.of("team", "lab"), Tokens.verify(store, "hf_alice").orElseThrow().namespaces());
            assertEquals(List.of("*"), Tokens.verify(store, "hf_admin").orElseThrow().namespaces());
            assertEquals("bob", Tokens.verify(store, "hf_bob").orElseThrow().owner());
            assertFalse(Files.exists(home.resolve(Tokens.LEGACY_HUB_FILE)));
            assertTrue(Files.exists(home.resolve(Tokens.LEGACY_HUB_FILE + ".imported")));
            assertEquals(0, Tokens.importLegacyHubTokens(store, home));
            assertEquals(3, store.tokens().size());
        }
    }

    @Test
    void aBadLineOfTheOldFileIsNamedAndTheFileKept() throws Exception {
        Path file = Files.writeString(home.resolve(Tokens.LEGACY_HUB_FILE), "hf_ok ok\nlonely\n");
        try (TrackStore store = TrackStore.openHome(home)) {
            var e = assertThrows(IllegalArgumentException.class, () -> Tokens.importLegacyHubTokens(store, home));
            assertTrue(e.getMessage().contains("line 2"), e.getMessage());
            assertTrue(Files.exists(file), "kept, to be fixed and read again");
        }
    }
}
