package dev.pricer.server.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.FileEntry;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.store.Hashing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proof the issue asks for: the official JavaScript client {@code @huggingface/hub} (installed from npm into
 * {@code target/hfjs} once, at a pinned version) creates a repository on our server, uploads a folder with a
 * file large enough for LFS (over the default 10 MB threshold), lists files and commits, and downloads a file at
 * the older revision, comparing bytes; then it branches a second repository, moves and deletes the branch, and
 * deletes that repository.
 */
class HfJsClientTest {

    static final String CLIENT = "@huggingface/hub@2.17.5";
    static final Path INSTALL = Path.of("target", "hfjs");

    @TempDir
    Path tmp;

    @Test
    void officialJavaScriptClientUploadsListsAndDownloads() throws Exception {
        Path script = install();
        byte[] weightsV1 = random(11 << 20, 1), weightsV2 = random(11 << 20, 2);
        Path v1 = Files.createDirectories(tmp.resolve("v1/config"));
        Files.writeString(v1.resolve("adapter_config.json"), "{\"r\": 32}");
        Files.write(v1.getParent().resolve("adapter_model.safetensors"), weightsV1);
        Path v2 = Files.createDirectories(tmp.resolve("v2/config"));
        Files.writeString(v2.resolve("adapter_config.json"), "{\"r\": 64}");
        Files.write(v2.getParent().resolve("adapter_model.safetensors"), weightsV2);

        try (HubServerFixture fixture = new HubServerFixture(tmp.resolve("hub"), HubLimits.DEFAULT)) {
            String output = node(script, Map.of("HUB_URL", fixture.uri().toString(), "HF_TOKEN", HubServerFixture.ALICE,
                "REPO", "alice/js-proof", "V1_DIR", v1.getParent().toString(), "V2_DIR", v2.getParent().toString(), "DOOMED", "alice/js-doomed"));
            JsonNode result = new ObjectMapper().readTree(output);

            RepoId repo = RepoId.model("alice/js-proof");
            List<CommitInfo> log = fixture.store.log(repo, fixture.store.resolve(repo, "main"), 0, 10);
            assertEquals(List.of(result.get("secondCommit").asText(), result.get("firstCommit").asText()), log.stream().map(CommitInfo::sha).toList());
            assertEquals(List.of("step 200", "step 100"), log.stream().map(CommitInfo::message).toList());
            assertEquals("alice", log.getFirst().author());
            List<FileEntry> first = fixture.store.files(repo, log.get(1).sha());
            assertEquals(Hashing.sha256(weightsV1), first.stream().filter(f -> f.path().equals("adapter_model.safetensors")).findFirst().orElseThrow().sha256());

            assertTrue(fixture.store.isUploaded(repo, Hashing.sha256(weightsV1)), "the weights came through an LFS upload link");
            assertTrue(result.get("oldDownloadMatches").asBoolean(), output);
            assertEquals(Hashing.sha256(weightsV1), result.get("oldDownloadSha256").asText());
            assertEquals(weightsV1.length, result.get("oldSize").asLong());
            assertTrue(result.get("oldEtag").asText().contains(Hashing.sha256(weightsV1)), output);
            assertEquals("{\"r\": 64}", result.get("latestConfig").asText());
            assertTrue(result.get("missingIsNull").asBoolean());
            assertEquals(2, result.get("commits").size());
            assertEquals("step 200", result.get("commits").get(0).get("title").asText());
            Map<String, JsonNode> files = new java.util.TreeMap<>();
            result.get("files").forEach(file -> files.put(file.get("path").asText(), file));
            assertEquals(List.of("adapter_model.safetensors", "config", "config/adapter_config.json"), List.copyOf(files.keySet()), output);
            assertEquals("directory", files.get("config").get("type").asText());
            assertTrue(files.get("adapter_model.safetensors").get("lfs").asBoolean(), "the 11 MB file went through LFS");
            assertEquals(weightsV2.length, files.get("adapter_model.safetensors").get("size").asLong());
            assertEquals(false, files.get("config/adapter_config.json").get("lfs").asBoolean());

            assertEquals("{\"r\": 32}", result.get("branchConfig").asText(), "createBranch at the first commit");
            assertEquals("{\"r\": 64}", result.get("movedConfig").asText(), "createBranch with overwrite moved it to main");
            assertTrue(result.get("branchGone").asBoolean(), "deleteBranch");
            assertEquals(false, result.get("doomedExists").asBoolean(), "deleteRepo");
            assertTrue(fixture.store.repoInfo(RepoId.model("alice/js-doomed")).isEmpty());
        }
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /** Installs the pinned client once (later runs reuse it) and puts the script beside it. */
    private static Path install() throws Exception {
        if (!Files.exists(INSTALL.resolve("node_modules/@huggingface/hub/package.json"))) {
            Files.createDirectories(INSTALL);
            run(List.of("npm", "install", "--no-audit", "--no-fund", "--prefix", INSTALL.toString(), CLIENT), Map.of(), 300);
        }
        Path script = INSTALL.resolve("proof.mjs");
        try (var in = HfJsClientTest.class.getResourceAsStream("/hfjs/proof.mjs")) {
            Files.write(script, in.readAllBytes());
        }
        return script;
    }

    private static String node(Path script, Map<String, String> env) throws Exception {
        return run(List.of("node", script.toString()), env, 120);
    }

    private static String run(List<String> command, Map<String, String> env, int seconds) throws IOException, InterruptedException {
        Path log = Files.createTempFile("hfjs-", ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(false)
            .redirectOutput(log.toFile()).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(env);
        Process process = builder.start();
        boolean done = process.waitFor(seconds, TimeUnit.SECONDS);
        String output = Files.readString(log, StandardCharsets.UTF_8);
        Files.delete(log);
        if (!done) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish in " + seconds + " s:\n" + output);
        }
        if (process.exitValue() != 0) throw new AssertionError(String.join(" ", command) + " exited " + process.exitValue() + ":\n" + output);
        String[] lines = output.strip().split("\n");
        return lines[lines.length - 1];
    }
}
