package dev.pricer.server.hub;

import dev.pricer.hub.HubException;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.RepoInfo;
import dev.pricer.server.Access.Caller;

import java.util.Optional;

/**
 * What a caller ({@link dev.pricer.server.Access}) may do in the hub. Public repositories are readable by anyone;
 * private ones, and writes, only by members of the repository's namespace.
 */
final class HubAccess {

    private HubAccess() {
    }

    static boolean mayRead(Optional<Caller> caller, RepoInfo repo) {
        return !repo.isPrivate() || caller.filter(c -> c.isMember(repo.id().namespace())).isPresent();
    }

    /** The caller if it may write to {@code repo}'s namespace; else why not. */
    static Caller requireWrite(Optional<Caller> caller, RepoId repo) {
        Caller who = caller.orElseThrow(() -> new HubException.Unauthorized("a token is needed to write to " + repo.qualified()));
        if (!who.isMember(repo.namespace())) {
            throw new HubException.Forbidden(who.user() + " may not write to namespace '" + repo.namespace() + "'");
        }
        return who;
    }
}
