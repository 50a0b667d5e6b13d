package dev.pricer.cli.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.cli.PricerCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HubCommandTest {

    @TempDir
    Path tmp;

    private record Result(int code, String out, String err) {
    }

    private Result pricer(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cli = new CommandLine(new PricerCommand());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--store", tmp.resolve("hub").toString()));
        int code = cli.execute(all.toArray(String[]::new));
        return new Result(code, out.toString().strip(), err.toString().strip());
    }

    @Test
    void pushListLogFilesDownloadAndGc() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("ckpt/sub"));
        Files.writeString(dir.getParent().resolve("adapter_config.json"), "{\"r\":8}");
        Files.writeString(dir.resolve("state.json"), "{\"step\":10}");
        Files.write(dir.getParent().resolve("adapter_model.safetensors"), new byte[1_500_000]);
        Result first = pricer("hub", "push", "alice/run-1", tmp.resolve("ckpt").toString(), "-m", "step 10", "--tag", "step-10");
        assertEquals(0, first.code(), first.err());
        assertEquals(List.of("pushing 3 file(s) from " + tmp.resolve("ckpt") + " to alice/run-1@main",
                "[2/3] adapter_model.safetensors: 1.5 MB of 1.5 MB (100%)"), first.err().lines().toList(),
            "a bar for each file of a megabyte or more, on stderr (a line at its end, as stderr is no terminal here)");
        String firstSha = first.out();
        assertEquals(40, firstSha.length());
        Files.writeString(dir.resolve("state.json"), "{\"step\":20}");
        Result second = pricer("hub", "push", "alice/run-1", tmp.resolve("ckpt").toString(), "-m", "step 20", "--json");
        JsonNode commit = new ObjectMapper().readTree(second.out());
        assertEquals(firstSha, commit.get("parent").asText());

        JsonNode repos = new ObjectMapper().readTree(pricer("hub", "list", "--json").out());
        assertEquals("alice/run-1", repos.get(0).get("id").asText());
        assertEquals(commit.get("sha").asText(), repos.get(0).get("head").asText());
        Result log = pricer("hub", "log", "alice/run-1");
        assertTrue(log.out().contains("step 20") && log.out().contains("(step-10)"), log.out());
        JsonNode logJson = new ObjectMapper().readTree(pricer("hub", "log", "alice/run-1", "--json").out());
        assertEquals(2, logJson.size());
        JsonNode files = new ObjectMapper().readTree(pricer("hub", "files", "alice/run-1@step-10", "--json").out());
        assertEquals("sub/state.json", files.get(2).get("path").asText());

        Path one = tmp.resolve("one.json");
        assertEquals(0, pricer("hub", "download", "alice/run-1@" + firstSha.substring(0, 7), "sub/state.json", "-o", one.toString()).code());
        assertEquals("{\"step\":10}", Files.readString(one));
        Path snapshot = tmp.resolve("snap");
        Result all = pricer("hub", "download", "alice/run-1", "-o", snapshot.toString());
        assertEquals(List.of("[2/3] adapter_model.safetensors: 1.5 MB of 1.5 MB (100%)"), all.err().lines().toList());
        assertEquals("{\"step\":20}", Files.readString(snapshot.resolve("sub/state.json")));

        Result missing = pricer("hub", "files", "alice/run-1@nope");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("nope"), missing.err());
        assertEquals(1, pricer("hub", "push", "alice/../x", tmp.resolve("ckpt").toString(), "-m", "x").code());

        JsonNode gc = new ObjectMapper().readTree(pricer("hub", "gc", "--grace", "PT0S", "--json").out());
        assertEquals(0, gc.get("blobsRemoved").asInt());
        assertEquals(4, gc.get("blobsKept").asInt());
    }

    /** A --store folder that does not exist is a typo to reading commands, refused without making it; a push makes it. */
    @Test
    void tagsBranchesAndRepositoriesAreMadeAndDeleted() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("ckpt"));
        Files.writeString(dir.resolve("a.json"), "{\"step\":1}");
        String first = pricer("hub", "push", "alice/run-2", dir.toString(), "-m", "one").out();
        Files.writeString(dir.resolve("a.json"), "{\"step\":2}");
        pricer("hub", "push", "alice/run-2", dir.toString(), "-m", "two");

        Files.writeString(dir.resolve("notes.txt"), "scratch");
        String third = pricer("hub", "push", "alice/run-2", dir.toString(), "-m", "notes").out();
        Result removed = pricer("hub", "rm", "alice/run-2", "notes.txt", "-m", "drop the notes");
        assertEquals(0, removed.code(), removed.err());
        assertEquals(List.of("a.json"), new ObjectMapper().readTree(pricer("hub", "files", "alice/run-2", "--json").out()).findValuesAsText("path"));
        assertEquals(0, pricer("hub", "files", "alice/run-2@" + third.substring(0, 7)).code(), "the earlier commit keeps it");
        Result absent = pricer("hub", "rm", "alice/run-2", "notes.txt", "-m", "again");
        assertEquals(1, absent.code());
        assertTrue(absent.err().contains("cannot delete 'notes.txt'"), absent.err());
        Files.delete(dir.resolve("notes.txt"));
        String head = removed.out();

        assertEquals("tag best of alice/run-2 at " + first.substring(0, 7), pricer("hub", "tag", "alice/run-2@" + first.substring(0, 7), "best").out());
        assertEquals("branch retry of alice/run-2 at " + head.substring(0, 7), pricer("hub", "branch", "alice/run-2", "retry").out());
        Result taken = pricer("hub", "branch", "alice/run-2", "retry");
        assertEquals(1, taken.code());
        assertTrue(taken.err().contains("branch 'retry' of alice/run-2 exists already"), taken.err());
        JsonNode refs = new ObjectMapper().readTree(pricer("hub", "refs", "alice/run-2", "--json").out());
        assertEquals("[{\"kind\":\"BRANCH\",\"name\":\"main\",\"target\":\"" + head + "\"},{\"kind\":\"BRANCH\",\"name\":\"retry\",\"target\":\""
            + head + "\"},{\"kind\":\"TAG\",\"name\":\"best\",\"target\":\"" + first + "\"}]", refs.toString());
        assertEquals(List.of("branch  " + head.substring(0, 7) + "  main", "branch  " + head.substring(0, 7) + "  retry", "tag     " + first.substring(0, 7) + "  best"),
            pricer("hub", "refs", "alice/run-2").out().lines().toList());

        assertEquals(0, pricer("hub", "tag", "alice/run-2", "best", "--delete").code());
        assertEquals(0, pricer("hub", "branch", "alice/run-2", "retry", "-d").code());
        Result main = pricer("hub", "branch", "alice/run-2", "main", "--delete");
        assertEquals(1, main.code());
        assertTrue(main.err().contains("is the default branch and cannot be deleted"), main.err());
        assertEquals(2, pricer("hub", "tag", "alice/run-2", "best", "--delete").code(), "gone already: not found");

        assertEquals("alice/run-2 is private", pricer("hub", "visibility", "alice/run-2", "private").out());
        assertTrue(new ObjectMapper().readTree(pricer("hub", "list", "--json").out()).get(0).get("private").asBoolean());
        JsonNode visible = new ObjectMapper().readTree(pricer("hub", "visibility", "alice/run-2", "public", "--json").out());
        assertEquals("alice/run-2", visible.get("id").asText());
        assertFalse(visible.get("private").asBoolean());
        assertEquals(1, pricer("hub", "visibility", "alice/run-2", "hidden").code());

        Result unconfirmed = pricer("hub", "delete", "alice/run-2");
        assertEquals(1, unconfirmed.code());
        assertEquals("pricer hub: not deleting alice/run-2 (main at " + head.substring(0, 7) + ", [main]): nothing brings it back; run again with --yes",
            unconfirmed.err());
        assertEquals(0, pricer("hub", "files", "alice/run-2").code(), "an unconfirmed delete changes nothing");
        assertEquals(0, pricer("hub", "delete", "alice/run-2", "--yes").code());
        assertEquals(2, pricer("hub", "files", "alice/run-2").code());
        assertEquals("[]", new ObjectMapper().readTree(pricer("hub", "list", "--json").out()).toString());
    }

    @Test
    void aStoreThatDoesNotExistIsRefusedExceptByPush() throws Exception {
        Path typo = tmp.resolve("no-such-hub");
        for (String[] command : List.of(new String[]{"hub", "list"}, new String[]{"hub", "log", "alice/run-1"}, new String[]{"hub", "gc"})) {
            StringWriter err = new StringWriter();
            CommandLine cli = new CommandLine(new PricerCommand());
            cli.setOut(new PrintWriter(new StringWriter()));
            cli.setErr(new PrintWriter(err));
            List<String> args = new ArrayList<>(List.of(command));
            args.addAll(List.of("--store", typo.toString()));
            assertEquals(1, cli.execute(args.toArray(String[]::new)), String.join(" ", command));
            assertTrue(err.toString().contains("no hub store at " + typo), err.toString());
            assertFalse(Files.exists(typo), String.join(" ", command) + " made the folder");
        }
        Files.createDirectories(tmp.resolve("ckpt"));
        Files.writeString(tmp.resolve("ckpt/a.json"), "{}");
        CommandLine cli = new CommandLine(new PricerCommand());
        cli.setOut(new PrintWriter(new StringWriter()));
        assertEquals(0, cli.execute("hub", "push", "alice/run-1", tmp.resolve("ckpt").toString(), "-m", "first", "--store", typo.toString()));
        assertTrue(Files.isDirectory(typo));
    }
}
