package dev.pricer.track.store;

/** The database failed (full disk, locked or damaged file, ...); the message names the store. */
public class StoreException extends RuntimeException {

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreException(String message) {
        super(message);
    }
}
