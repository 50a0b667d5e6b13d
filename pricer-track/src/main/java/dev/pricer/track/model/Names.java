package dev.pricer.track.model;

/**
 * How long the names of a run may be, wherever it is written: the local store and a server's hold to one set of
 * limits, so that every run logged locally can also be synced.
 */
public final class Names {

    public static final int ID = 64;
    public static final int PROJECT = 200;
    /** A run's name, and a metric key. */
    public static final int NAME = 400;

    private Names() {
    }

    /** The value, if it is not blank and at most {@code most} characters; else an error naming {@code what}. */
    public static String require(String what, String value, int most) {
        if (value == null || value.isBlank()) throw new IllegalArgumentException(what + " cannot be empty");
        if (value.length() > most) {
            throw new IllegalArgumentException(what + " is " + value.length() + " characters long, more than " + most);
        }
        return value;
    }
}
