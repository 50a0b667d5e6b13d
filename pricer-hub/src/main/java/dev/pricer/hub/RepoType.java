package dev.pricer.hub;

import java.util.Locale;

/** What a repository holds; the plural is its segment in Hugging Face URLs ({@code /api/models/...}). */
public enum RepoType {
    MODEL("models"), DATASET("datasets");

    private final String plural;

    RepoType(String plural) {
        this.plural = plural;
    }

    public String plural() {
        return plural;
    }

    public static RepoType parse(String text) {
        for (RepoType type : values()) {
            if (type.plural.equals(text) || type.name().toLowerCase(Locale.ROOT).equals(text)) return type;
        }
        throw new HubException.Invalid("unknown repository type '" + text + "' (expected model or dataset)");
    }
}
