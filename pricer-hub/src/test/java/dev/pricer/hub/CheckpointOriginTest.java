package dev.pricer.hub;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CheckpointOriginTest {

    private static CommitInfo commit(String message) {
        return new CommitInfo("a".repeat(40), null, "alice", Instant.EPOCH, message);
    }

    @Test
    void theTrailersRoundTrip() {
        CheckpointOrigin origin = new CheckpointOrigin(200, "run-7f3a");
        String message = origin.message("step 200");
        assertEquals("step 200\n\nStep: 200\nRun: run-7f3a", message);
        assertEquals(Optional.of(origin), CheckpointOrigin.ofMessage(message));
        assertEquals("step-200", origin.tag());
        assertEquals(Optional.of(new CheckpointOrigin(5, null)), CheckpointOrigin.ofMessage(new CheckpointOrigin(5, null).message("final checkpoint, step 5")));
    }

    @Test
    void onlyTrailersOfTheLastParagraphCount() {
        assertEquals(Optional.empty(), CheckpointOrigin.ofMessage("Step: 3"), "a title is no trailer");
        assertEquals(Optional.empty(), CheckpointOrigin.ofMessage("title\n\nStep: 3\n\nmore text"));
        assertEquals(Optional.empty(), CheckpointOrigin.ofMessage("title\n\nStep: -3"));
        assertEquals(Optional.empty(), CheckpointOrigin.ofMessage("title\n\nStep: 3x"));
    }

    @Test
    void aStepTagGivesTheStepOfAnOlderCommit() {
        assertEquals(Optional.of(new CheckpointOrigin(40, null)), CheckpointOrigin.of(commit("step 40"), List.of("v1", "step-40")));
        assertEquals(Optional.empty(), CheckpointOrigin.of(commit("step 40"), List.of("step-x", "release")));
        assertEquals(Optional.of(new CheckpointOrigin(41, "r")), CheckpointOrigin.of(commit("t\n\nStep: 41\nRun: r"), List.of("step-40")),
                "the trailer wins");
    }
}
