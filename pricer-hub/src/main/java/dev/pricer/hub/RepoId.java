package dev.pricer.hub;

import java.util.regex.Pattern;

/** A repository's identity: {@code namespace/name} of a type. Both parts are checked, so they are safe as path segments. */
public record RepoId(RepoType type, String namespace, String name) {

    private static final Pattern PART = Pattern.compile("[A-Za-z0-9._-]{1,96}");

    public RepoId {
        checkPart("namespace", namespace);
        checkPart("name", name);
    }

    public static RepoId model(String id) {
        return parse(RepoType.MODEL, id);
    }

    /** Parses {@code namespace/name}, or {@code datasets/namespace/name} for a dataset. */
    public static RepoId parse(String text) {
        if (text != null && text.startsWith("datasets/")) return parse(RepoType.DATASET, text.substring("datasets/".length()));
        if (text != null && text.startsWith("models/")) return parse(RepoType.MODEL, text.substring("models/".length()));
        return parse(RepoType.MODEL, text);
    }

    public static RepoId parse(RepoType type, String text) {
        int slash = text == null ? -1 : text.indexOf('/');
        if (slash < 0 || text.indexOf('/', slash + 1) >= 0) {
            throw new HubException.Invalid("repository '" + text + "' must be namespace/name");
        }
        return new RepoId(type, text.substring(0, slash), text.substring(slash + 1));
    }

    private static void checkPart(String what, String value) {
        if (value == null || !PART.matcher(value).matches() || value.equals(".") || value.equals("..")) {
            throw new HubException.Invalid("repository " + what + " '" + value + "' must be 1 to 96 of A-Z a-z 0-9 . _ -");
        }
    }

    /** {@code namespace/name}, as the Hugging Face Hub writes a repository id. */
    @Override
    public String toString() {
        return namespace + "/" + name;
    }

    /** The id with the type's prefix when it is not a model: {@code datasets/ns/name}. */
    public String qualified() {
        return type == RepoType.MODEL ? toString() : type.plural() + "/" + this;
    }
}
