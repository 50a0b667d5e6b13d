package dev.pricer.train.progress;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressTest {

    static Progress.Report report(int step, boolean logged) {
        return new Progress.Report(step, 100, step / 50.0, 1.5, 2e-4, 1234, step * 2.0, logged);
    }

    @Test
    void plainLinesOnlyAtLoggingSteps() {
        var out = new ByteArrayOutputStream();
        Progress p = new Progress.Lines(new PrintStream(out, true));
        p.start(0, 100);
        p.step(report(1, false));
        p.step(report(10, true));
        p.message("saved checkpoint-10");
        p.finish();
        String[] lines = out.toString().split("\n");
        assertEquals(2, lines.length, out.toString());
        assertEquals("step 10/100  epoch 0.20  loss 1.5000  lr 0.000200  1234 tok/s  elapsed 00:20  ETA 03:00", lines[0]);
        assertEquals("saved checkpoint-10", lines[1]);
    }

    @Test
    void theBarRedrawsOneLineAndKeepsMessagesOnTheirOwn() {
        var out = new ByteArrayOutputStream();
        Progress p = new Progress.Bar(new PrintStream(out, true));
        p.start(0, 100);
        p.step(report(50, false));
        p.message("eval");
        p.step(report(100, true));
        p.finish();
        String s = out.toString();
        assertTrue(s.startsWith("\r[###############...............] 50/100"), s);
        assertTrue(s.contains("\neval\n") || s.contains("\reval\n"), s);
        assertTrue(s.contains("[##############################] 100/100") && s.contains("ETA 00:00"), s);
        assertEquals("1:02:03", Progress.clock(3723));
    }
}
