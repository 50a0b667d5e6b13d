package dev.pricer.eval.tester;

/** The course's verdict on one estimate. */
public enum Colour {
    GREEN("\u001b[32m"), ORANGE("\u001b[33m"), RED("\u001b[31m");

    private final String ansi;

    Colour(String ansi) {
        this.ansi = ansi;
    }

    /** Green under $40 or 20% off, orange under $80 or 40% off, red otherwise. */
    public static Colour of(double error, double truth) {
        double relative = truth > 0 ? error / truth : Double.POSITIVE_INFINITY;
        if (error < 40 || relative < 0.2) return GREEN;
        if (error < 80 || relative < 0.4) return ORANGE;
        return RED;
    }

    public String ansi() {
        return ansi;
    }

    public java.awt.Color rgb() {
        return switch (this) {
            case GREEN -> new java.awt.Color(0x2e, 0xa0, 0x43);
            case ORANGE -> new java.awt.Color(0xf0, 0x8c, 0x00);
            case RED -> new java.awt.Color(0xd0, 0x30, 0x30);
        };
    }
}
