package dev.pricer.cli.progress;

import dev.pricer.hub.FileEntry;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressBarTest {

    private static final long SECOND = 1_000_000_000L;

    private final StringWriter written = new StringWriter();
    private final long[] now = {0};

    private ProgressBar bar(boolean terminal, String label, long total, ProgressBar.Unit unit) {
        return new ProgressBar(new PrintWriter(written), terminal, () -> now[0], label, total, unit);
    }

    @Test
    void aLogGetsALineEveryFewSecondsAndOneAtTheEnd() {
        ProgressBar bar = bar(false, "curate", 4000, ProgressBar.Unit.COUNT);
        now[0] = 2 * SECOND;
        bar.update(400, "records");
        assertEquals("", written.toString(), "nothing within the first seconds");
        now[0] = 5 * SECOND;
        bar.update(1000, "records");
        now[0] = 6 * SECOND;
        bar.update(1200, "records");
        now[0] = 8 * SECOND;
        bar.finish(4000, "records");
        assertEquals(List.of("curate: 1,000 of 4,000 (25%) records  200/s", "curate: 4,000 of 4,000 (100%) records  500/s"),
            written.toString().lines().toList());
    }

    @Test
    void aTerminalGetsOneBarRedrawnInPlace() {
        ProgressBar bar = bar(true, "sync", 4, ProgressBar.Unit.COUNT);
        now[0] = SECOND / 10;
        bar.update(1, "runs");
        assertEquals("", written.toString(), "not redrawn within a fifth of a second");
        now[0] = SECOND;
        bar.update(1, "runs");
        bar.message("run a: 10 points");
        bar.update(2, "runs");
        now[0] = 2 * SECOND;
        bar.finish(4, "runs");
        String first = "sync [#######.......................] 1/4 runs  1/s  ETA 00:03";
        assertEquals("\r" + first
                + "\r" + " ".repeat(first.length()) + "\rrun a: 10 points\n"
                + "\rsync [###############...............] 2/4 runs  2/s  ETA 00:01"
                + "\rsync [##############################] 4/4 runs  2/s  ETA 00:00\n", written.toString());
    }

    @Test
    void bytesReadAsSizesAndAnUnknownTotalAsACount() {
        ProgressBar bytes = bar(false, "[1/1] model.safetensors", 2_000_000, ProgressBar.Unit.BYTES);
        ProgressBar count = bar(false, "stats", 0, ProgressBar.Unit.COUNT);
        ProgressBar quick = bar(false, "quick", 10, ProgressBar.Unit.COUNT);
        quick.finish(10, "items");
        now[0] = 2 * SECOND;
        bytes.finish(1_000_000, "");
        count.finish(1234, "records");
        assertEquals(List.of("quick: 10 of 10 (100%) items", "[1/1] model.safetensors: 1.0 MB of 2.0 MB (50%)  500.0 kB/s",
                "stats: 1,234 records  617/s"), written.toString().lines().toList(), "no rate for work done in an instant");
    }

    @Test
    void aTransferDrawsABarForEachFileOfAMegabyteOrMore() {
        TransferBar transfer = new TransferBar((label, size) -> bar(false, label, size, ProgressBar.Unit.BYTES));
        FileEntry config = new FileEntry("config.json", 700, null), weights = new FileEntry("model.safetensors", 5_000_000_000L, null);
        FileEntry tokenizer = new FileEntry("tokenizer.json", TransferBar.SHOWN_FROM, null);
        transfer.started(config, 0, 3);
        transfer.moved(700);
        now[0] = SECOND;
        transfer.finished(config);
        transfer.started(tokenizer, 1, 3);
        transfer.moved(TransferBar.SHOWN_FROM);
        now[0] = 2 * SECOND;
        transfer.finished(tokenizer);
        transfer.started(weights, 2, 3);
        for (int i = 0; i < 10; i++) {
            now[0] += SECOND;
            transfer.moved(250_000_000);
        }
        transfer.finished(weights);
        assertEquals(List.of("[2/3] tokenizer.json: 1.0 MB of 1.0 MB (100%)  1.0 MB/s",
                "[3/3] model.safetensors: 1.25 GB of 5.00 GB (25%)  250.0 MB/s",
                "[3/3] model.safetensors: 2.50 GB of 5.00 GB (50%)  250.0 MB/s"),
            written.toString().lines().toList(), "a line every five seconds, and the end once; nothing for a small file");
    }
}
