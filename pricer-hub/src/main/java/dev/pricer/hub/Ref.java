package dev.pricer.hub;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A branch or a tag and the commit it points at. */
public record Ref(Kind kind, String name, String target) {
    public enum Kind { BRANCH, TAG }

    /** The tags among {@code refs}, by the commit they name (e.g. the commit a checkpoint made, tagged step-200). */
    public static Map<String, List<String>> tagsByCommit(Collection<Ref> refs) {
        Map<String, List<String>> tags = new HashMap<>();
        for (Ref ref : refs) {
            if (ref.kind() == Kind.TAG) tags.computeIfAbsent(ref.target(), k -> new ArrayList<>()).add(ref.name());
        }
        tags.values().forEach(names -> names.sort(null));
        return tags;
    }
}
