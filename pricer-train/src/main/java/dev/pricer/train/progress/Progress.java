package dev.pricer.train.progress;

import java.io.PrintStream;

/**
 * What a person watching the run sees: on a terminal one redrawn bar, otherwise (a log file, CI) a plain
 * line per logging step. The trainer calls {@link #step} after every optimizer step.
 */
public sealed interface Progress permits Progress.Bar, Progress.Lines {

    /** {@code loss} is the logged mean when {@code logged}, otherwise this step's. */
    record Report(int step, int totalSteps, double epoch, double loss, double learningRate,
                  double tokensPerSecond, double elapsedSeconds, boolean logged) {

        double etaSeconds(int startStep) {
            int done = step - startStep;
            return done <= 0 ? Double.NaN : elapsedSeconds / done * (totalSteps - step);
        }
    }

    /** Called with the step this session started from, before the first step. */
    void start(int startStep, int totalSteps);

    void step(Report report);

    /** A line of its own (a checkpoint saved, an evaluation), not overwritten by the bar. */
    void message(String line);

    void finish();

    /** A bar when {@code out} is the terminal, lines otherwise. */
    static Progress forConsole(PrintStream out) {
        var console = System.console();
        return console != null && console.isTerminal() ? new Bar(out) : new Lines(out);
    }

    static String clock(double seconds) {
        if (!Double.isFinite(seconds)) return "--:--";
        long s = Math.round(seconds);
        return s >= 3600 ? "%d:%02d:%02d".formatted(s / 3600, s / 60 % 60, s % 60) : "%02d:%02d".formatted(s / 60, s % 60);
    }

    final class Bar implements Progress {
        private static final int WIDTH = 30;
        private static final long REDRAW_NANOS = 100_000_000;
        private final PrintStream out;
        private int startStep;
        private long lastDraw;
        private int lastWidth;

        public Bar(PrintStream out) {
            this.out = out;
        }

        @Override
        public void start(int startStep, int totalSteps) {
            this.startStep = startStep;
        }

        @Override
        public void step(Report r) {
            long now = System.nanoTime();
            if (now - lastDraw < REDRAW_NANOS && r.step() < r.totalSteps()) return;
            lastDraw = now;
            int filled = (int) ((long) WIDTH * r.step() / r.totalSteps());
            String line = "%s %d/%d  epoch %.2f  loss %.4f  lr %.3g  %.0f tok/s  ETA %s".formatted(
                    "[" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "]", r.step(), r.totalSteps(), r.epoch(),
                    r.loss(), r.learningRate(), r.tokensPerSecond(), clock(r.etaSeconds(startStep)));
            out.print("\r" + line + " ".repeat(Math.max(0, lastWidth - line.length())));
            lastWidth = line.length();
            out.flush();
        }

        @Override
        public void message(String line) {
            out.print("\r" + " ".repeat(lastWidth) + "\r");
            out.println(line);
            lastWidth = 0;
            lastDraw = 0;
        }

        @Override
        public void finish() {
            if (lastWidth > 0) out.println();
        }
    }

    final class Lines implements Progress {
        private final PrintStream out;
        private int startStep;

        public Lines(PrintStream out) {
            this.out = out;
        }

        @Override
        public void start(int startStep, int totalSteps) {
            this.startStep = startStep;
        }

        @Override
        public void step(Report r) {
            if (!r.logged()) return;
            out.printf("step %d/%d  epoch %.2f  loss %.4f  lr %.3g  %.0f tok/s  elapsed %s  ETA %s%n", r.step(), r.totalSteps(),
                    r.epoch(), r.loss(), r.learningRate(), r.tokensPerSecond(), clock(r.elapsedSeconds()),
                    clock(r.etaSeconds(startStep)));
        }

        @Override
        public void message(String line) {
            out.println(line);
        }

        @Override
        public void finish() {
            out.flush();
        }
    }
}
