package dev.pricer.hub;

/** What can go wrong in the hub, one subclass per answer a caller (or an HTTP status) needs to tell apart. */
public sealed class HubException extends RuntimeException {

    HubException(String message) {
        super(message);
    }

    HubException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The thing that is missing; a private repository the caller may not see is reported as missing too. */
    public enum Missing { REPO, REVISION, ENTRY }

    public static final class NotFound extends HubException {
        private final Missing missing;

        public NotFound(Missing missing, String message) {
            super(message);
            this.missing = missing;
        }

        public Missing missing() {
            return missing;
        }
    }

    /** A branch moved while a push was running, or a repository already exists. */
    public static final class Conflict extends HubException {
        public Conflict(String message) {
            super(message);
        }
    }

    /** Bad input: a name, a path, a body that does not match its declared hash or size. */
    public static final class Invalid extends HubException {
        public Invalid(String message) {
            super(message);
        }
    }

    public static final class TooLarge extends HubException {
        public TooLarge(String message) {
            super(message);
        }
    }

    /** No token, or a token that may not write here. */
    public static final class Unauthorized extends HubException {
        public Unauthorized(String message) {
            super(message);
        }
    }

    /** A valid token that may not do this (write to another namespace). */
    public static final class Forbidden extends HubException {
        public Forbidden(String message) {
            super(message);
        }
    }

    /** The store or the remote server failed (I/O, an unexpected answer). */
    public static final class Failure extends HubException {
        public Failure(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
