package dev.pricer.eval.results;

import dev.pricer.eval.tester.Report;
import dev.pricer.eval.tester.Scored;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResultStoreTest {

    @Test
    void leaderboardRanksEntriesAndReplacesARepeatedOne(@TempDir Path dir) {
        ResultStore store = new ResultStore(dir);
        store.save("Shop Test", Report.of("random", List.of(Scored.of("a", 100, 900, false))));
        store.save("Shop Test", Report.of("shop/run@abc1234 (step 5)", List.of(Scored.of("a", 100, 150, false))));
        store.save("Shop Test", Report.of("shop/run@abc1234 (step 5)", List.of(Scored.of("a", 100, 110, false))));
        assertEquals(List.of("shop-test"), store.datasets());
        List<ResultStore.Entry> board = store.leaderboard("shop-test");
        assertEquals(List.of("shop/run@abc1234 (step 5)", "random"), board.stream().map(ResultStore.Entry::name).toList());
        assertEquals(10, board.getFirst().averageError(), 1e-9);
        assertTrue(Files.isRegularFile(store.chart("shop-test", board.getFirst().id())));
        assertThrows(IllegalArgumentException.class, () -> store.chart("shop-test", "../../etc/passwd"));
        assertThrows(IllegalArgumentException.class, () -> store.leaderboard(".."));
    }
}
