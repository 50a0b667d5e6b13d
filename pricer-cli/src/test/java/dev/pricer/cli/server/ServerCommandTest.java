package dev.pricer.cli.server;

import dev.pricer.cli.PricerCommand;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServerCommandTest {

    @TempDir
    Path dir;

    /** Refused while parsing, by name and range, before a store is opened or a socket bound. */
    @ParameterizedTest
    @ValueSource(strings = {"99999", "65536", "-1"})
    void aPortOutsideZeroTo65535IsRefusedBeforeAnythingStarts(String port) {
        StringWriter err = new StringWriter();
        CommandLine cli = PricerCommand.create();
        cli.setOut(new PrintWriter(new StringWriter()));
        cli.setErr(new PrintWriter(err, true));
        Path home = dir.resolve("home");
        assertEquals(2, cli.execute("server", "--port", port, "--home", home.toString()));
        assertTrue(err.toString().contains("--port must be 0 to 65535, not " + port), err.toString());
        assertFalse(Files.exists(home), "nothing was opened");
    }
}
