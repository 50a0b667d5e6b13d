package dev.pricer.track.remote;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrackClientTest {

    /** A refused connection has no message of its own: "server unreachable, will retry (null)" said nothing. */
    @Test
    void aServerThatIsNotThereIsNamed() throws IOException {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        URI server = URI.create("http://127.0.0.1:" + port);
        IOException e = assertThrows(IOException.class, () -> new TrackClient(server, null).runs("p"));
        assertTrue(e.getMessage().startsWith("cannot reach " + server + "/: "), e.getMessage());
        assertFalse(e.getMessage().endsWith("null"), e.getMessage());
    }
}
