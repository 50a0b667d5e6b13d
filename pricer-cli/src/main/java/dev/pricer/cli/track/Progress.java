package dev.pricer.cli.track;

/** Progress of long work: a bar redrawn in place on a terminal, a plain line per step otherwise (logs, pipes). */
final class Progress {

    private final String label;
    private final int total;
    private final boolean quiet;
    private final boolean terminal = System.console() != null && System.console().isTerminal();
    private int done;

    Progress(String label, int total, boolean quiet) {
        this.label = label;
        this.total = total;
        this.quiet = quiet;
    }

    void step(String message) {
        done++;
        if (quiet) return;
        if (terminal) {
            int filled = total == 0 ? 30 : 30 * done / total;
            System.err.print("\r" + label + " [" + "#".repeat(filled) + ".".repeat(30 - filled) + "] " + done + "/" + total);
        } else {
            System.err.println(label + " " + done + "/" + total + ": " + message);
        }
    }

    void done() {
        if (terminal && !quiet && total > 0) System.err.println();
    }
}
