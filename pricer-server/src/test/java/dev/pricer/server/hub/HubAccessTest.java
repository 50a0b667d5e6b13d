package dev.pricer.server.hub;

import dev.pricer.hub.HubException;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.RepoInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HubAccessTest {

    @TempDir
    Path tmp;

    @Test
    void tokensFileNamesUsersAndTheirNamespaces() throws Exception {
        Path file = Files.writeString(tmp.resolve("hub-tokens"), """
            # token user namespaces
            hf_admin admin *
            hf_alice alice team,lab

            hf_bob bob
            """);
        HubAccess access = HubAccess.load(file);
        HubAccess.Caller alice = access.caller("Bearer hf_alice").orElseThrow();
        assertEquals("alice", alice.user());
        assertTrue(alice.isMember("alice") && alice.isMember("team") && alice.isMember("lab"));
        assertFalse(alice.isMember("bob"));
        assertTrue(access.caller("bearer hf_admin").orElseThrow().isMember("anyone"));
        assertTrue(access.caller(null).isEmpty());
        assertThrows(HubException.Unauthorized.class, () -> access.caller("Bearer hf_nobody"));
        assertThrows(HubException.Unauthorized.class, () -> access.caller("Basic abc"));

        RepoInfo secret = new RepoInfo(RepoId.model("team/secret"), true, Instant.now(), null, Instant.now());
        assertTrue(HubAccess.mayRead(Optional.of(alice), secret));
        assertFalse(HubAccess.mayRead(access.caller("Bearer hf_bob"), secret));
        assertFalse(HubAccess.mayRead(Optional.empty(), secret));
        assertThrows(HubException.Forbidden.class, () -> HubAccess.requireWrite(access.caller("Bearer hf_bob"), secret.id()));
        assertThrows(HubException.Unauthorized.class, () -> HubAccess.requireWrite(Optional.empty(), secret.id()));
        assertEquals(alice, HubAccess.requireWrite(Optional.of(alice), secret.id()));
    }

    @Test
    void aMissingTokensFileMeansReadOnlyAndABadLineIsNamed() throws Exception {
        assertTrue(HubAccess.load(tmp.resolve("absent")).caller(null).isEmpty());
        Path bad = Files.writeString(tmp.resolve("bad"), "hf_ok ok\nlonely\n");
        HubException.Invalid e = assertThrows(HubException.Invalid.class, () -> HubAccess.load(bad));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    }
}
