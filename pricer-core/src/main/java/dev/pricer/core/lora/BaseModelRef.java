package dev.pricer.core.lora;

/**
 * The base model an adapter was trained on, as PEFT records it in {@code adapter_config.json}:
 * {@code base_model_name_or_path} (a Hugging Face {@code owner/name}, a hub repository or a folder) and
 * {@code revision}, the base's commit, or null when the name alone says it (a folder).
 */
public record BaseModelRef(String nameOrPath, String revision) {

    public BaseModelRef {
        if (nameOrPath == null || nameOrPath.isBlank()) throw new IllegalArgumentException("a base model needs a name or path");
    }

    /** {@code name@revision}, or the name or path alone: how a command line names this base. */
    public String reference() {
        return revision == null ? nameOrPath : nameOrPath + "@" + revision;
    }

    /** A base named without a revision: a folder, or a repository at its main branch. */
    public static BaseModelRef of(String nameOrPath) {
        return new BaseModelRef(nameOrPath, null);
    }
}
