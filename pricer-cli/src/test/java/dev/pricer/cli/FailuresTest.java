package dev.pricer.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FailuresTest {

    @TempDir
    Path dir;

    @Test
    void fileErrorsNameTheFileAndWhatIsWrong() {
        assertEquals("/a/b: no such file or folder", Failures.describe(new NoSuchFileException("/a/b")));
        assertEquals("/a/tokenizer.json: no tokenizer.json here",
                Failures.describe(new UncheckedIOException(new NoSuchFileException("/a/tokenizer.json", null, "no tokenizer.json here"))));
        assertEquals("/a/b: permission denied", Failures.describe(new AccessDeniedException("/a/b")));
    }

    /** A checkpoint that did not fit on the disk was reported as "error: cannot write PATH" alone. */
    @Test
    void anIoCauseSaysWhyUnlessTheMessageDoes() {
        assertEquals("cannot write /r/adapter_model.safetensors: No space left on device",
                Failures.describe(new UncheckedIOException("cannot write /r/adapter_model.safetensors", new IOException("No space left on device"))));
        assertEquals("cannot read checkpoint /r: /r/trainer_state.json: no such file or folder",
                Failures.describe(new UncheckedIOException("cannot read checkpoint /r", new NoSuchFileException("/r/trainer_state.json"))));
        assertEquals("cannot read /r/a.json: no such file or folder",
                Failures.describe(new UncheckedIOException("cannot read /r/a.json", new NoSuchFileException("/r/a.json"))));
        assertEquals("cannot write chart /c.png: No space left on device",
                Failures.describe(new UncheckedIOException("cannot write chart /c.png: No space left on device", new IOException("No space left on device"))));
    }

    @Test
    void otherFailuresKeepTheirOwnMessage() {
        assertEquals("cannot read tokenizer /a: no such file or folder here",
                Failures.describe(new UncheckedIOException("cannot read tokenizer /a: no such file or folder here", new NoSuchFileException("/a"))));
        assertEquals("batch size must be at least 1", Failures.describe(new IllegalArgumentException("batch size must be at least 1")));
        assertEquals("NullPointerException", Failures.describe(new NullPointerException()));
    }

    /** A missing --file was reported as "error: PATH" alone. */
    @Test
    void aCommandThatMissesAFileSaysSo() {
        Path missing = dir.resolve("texts.txt");
        StringWriter err = new StringWriter();
        CommandLine cli = PricerCommand.create();
        cli.setOut(new PrintWriter(new StringWriter()));
        cli.setErr(new PrintWriter(err, true));
        assertEquals(1, cli.execute("predict", "--model", "me/model", "--file", missing.toString(), "--home", dir.toString()));
        assertTrue(err.toString().contains("error: " + missing + ": no such file or folder"), err.toString());
    }
}
