package dev.pricer.hub;

/** A branch or a tag and the commit it points at. */
public record Ref(Kind kind, String name, String target) {
    public enum Kind { BRANCH, TAG }
}
