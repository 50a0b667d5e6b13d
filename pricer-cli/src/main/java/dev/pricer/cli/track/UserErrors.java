package dev.pricer.cli.track;

import dev.pricer.track.store.StoreException;

import java.io.IOException;
import java.util.concurrent.Callable;

/** Bad input and unreachable stores or servers are reported as one line naming the problem, not a stack trace. */
final class UserErrors {

    static final int EXIT = 2;

    private UserErrors() {
    }

    static Integer reported(String command, Callable<Integer> body) throws Exception {
        try {
            return body.call();
        } catch (IllegalArgumentException | StoreException | IOException e) {
            System.err.println("pricer " + command + ": " + e.getMessage());
            return EXIT;
        }
    }
}
