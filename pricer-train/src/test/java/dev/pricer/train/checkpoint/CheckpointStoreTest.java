package dev.pricer.train.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointStoreTest {

    @TempDir
    Path run;

    static CheckpointPart text(String name, String content) {
        return CheckpointPart.file(name, f -> Files.writeString(f, content));
    }

    @Test
    void writesCompleteCheckpointsAndFindsTheLatest() throws IOException {
        CheckpointStore store = new CheckpointStore(run);
        store.write(10, List.of(text("a.json", "{}"), text("b.bin", "xyz")));
        store.write(20, List.of(text("a.json", "{\"s\":20}")));
        assertEquals(List.of(10, 20), store.list().stream().map(Checkpoint::step).toList());
        Checkpoint latest = store.latest().orElseThrow();
        assertEquals(20, latest.step());
        assertEquals("{\"s\":20}", Files.readString(latest.file("a.json")));
        assertEquals(List.of("a.json", "b.bin"), CheckpointStore.open(run.resolve("checkpoint-10")).files());
    }

    @Test
    void anIoErrorMidWriteLeavesThePreviousCheckpointIntactAndNoHalfCheckpoint() throws IOException {
        CheckpointStore store = new CheckpointStore(run);
        store.write(10, List.of(text("adapter_model.safetensors", "weights-10"), text("trainer_state.json", "{\"global_step\":10}")));
        CheckpointPart failing = CheckpointPart.file("optimizer.safetensors", f -> {
            try (OutputStream out = Files.newOutputStream(f)) {
                out.write(new byte[4096]);
                throw new IOException("No space left on device (injected)");
            }
        });
        IOException e = assertThrows(IOException.class,
                () -> store.write(20, List.of(text("adapter_model.safetensors", "weights-20"), failing, text("trainer_state.json", "{}"))));
        assertTrue(e.getMessage().contains("injected"));
        assertFalse(Files.exists(run.resolve("checkpoint-20")));
        assertFalse(Files.exists(run.resolve("checkpoint-20.tmp")), "the temporary folder is cleared");
        Checkpoint kept = store.latest().orElseThrow();
        assertEquals(10, kept.step());
        assertEquals("weights-10", Files.readString(kept.file("adapter_model.safetensors")));

        store.write(20, List.of(text("adapter_model.safetensors", "weights-20")));
        assertEquals(20, store.latest().orElseThrow().step(), "the same step can be written after a failure");
    }

    @Test
    void aFolderLeftByAKilledWriteIsNotACheckpoint() throws IOException {
        CheckpointStore store = new CheckpointStore(run);
        store.write(5, List.of(text("x", "5")));
        Files.createDirectories(run.resolve("checkpoint-9.tmp"));
        Files.writeString(run.resolve("checkpoint-9.tmp/x"), "half");
        Files.createDirectories(run.resolve("checkpoint-7"));
        assertEquals(5, store.latest().orElseThrow().step());
        var e = assertThrows(IllegalArgumentException.class, () -> CheckpointStore.open(run.resolve("checkpoint-7")));
        assertTrue(e.getMessage().contains("incomplete"), e.getMessage());
        store.write(9, List.of(text("x", "9")));
        assertEquals("9", Files.readString(run.resolve("checkpoint-9/x")));
    }

    @Test
    void aCheckpointMissingAListedFileIsRefused() throws IOException {
        CheckpointStore store = new CheckpointStore(run);
        Checkpoint cp = store.write(3, List.of(text("x", "1"), text("y", "2")));
        Files.delete(cp.file("y"));
        var e = assertThrows(IllegalArgumentException.class, () -> CheckpointStore.open(cp.dir()));
        assertTrue(e.getMessage().contains("missing y"), e.getMessage());
    }

    @Test
    void pruneKeepsTheNewest() throws IOException {
        CheckpointStore store = new CheckpointStore(run);
        for (int s : new int[]{1, 2, 3, 4}) store.write(s, List.of(text("x", "" + s)));
        assertEquals(List.of(1, 2), store.prune(2).stream().map(Checkpoint::step).toList());
        assertEquals(List.of(3, 4), store.list().stream().map(Checkpoint::step).toList());
        assertFalse(Files.exists(run.resolve("checkpoint-1")));
    }

    @Test
    void refusesNamesThatLeaveTheFolder() {
        assertThrows(IllegalArgumentException.class, () -> text("../escape", ""));
        assertThrows(IllegalArgumentException.class, () -> text("COMPLETE", ""));
    }

    @Test
    void aPartThatPromisesAFileItDoesNotWriteFails() throws IOException {
        CheckpointStore store = new CheckpointStore(run);
        var e = assertThrows(IOException.class, () -> store.write(1, List.of(new CheckpointPart(List.of("a", "b"),
                folder -> Files.writeString(folder.resolve("a"), "only a")))));
        assertTrue(e.getMessage().contains("b was not written"), e.getMessage());
        assertTrue(store.list().isEmpty());
    }
}
