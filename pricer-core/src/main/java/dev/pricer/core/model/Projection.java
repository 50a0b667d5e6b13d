package dev.pricer.core.model;

/** The linear projections of a Llama decoder layer, with their path under {@code model.layers.N}. */
public enum Projection {
    Q("self_attn", "q_proj"), K("self_attn", "k_proj"), V("self_attn", "v_proj"), O("self_attn", "o_proj"),
    GATE("mlp", "gate_proj"), UP("mlp", "up_proj"), DOWN("mlp", "down_proj");

    private final String block;
    private final String shortName;

    Projection(String block, String shortName) {
        this.block = block;
        this.shortName = shortName;
    }

    /** PEFT's target-module name, e.g. {@code q_proj}. */
    public String shortName() {
        return shortName;
    }

    /** The module path in HF's state dict, e.g. {@code model.layers.3.self_attn.q_proj}. */
    public String modulePath(int layer) {
        return "model.layers." + layer + "." + block + "." + shortName;
    }

    public static Projection byShortName(String name) {
        for (Projection p : values()) if (p.shortName.equals(name)) return p;
        throw new IllegalArgumentException("no projection named " + name);
    }
}
