package dev.pricer.cli.track;

import dev.pricer.track.store.Token;
import dev.pricer.track.store.Tokens;
import dev.pricer.track.store.TrackStore;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code pricer token create | list | revoke}: the server's API tokens, one kind for tracking writes, hub writes and
 * private hub repositories. They live in the home's track store, so run these where the server's home is.
 */
@Command(name = "token", mixinStandardHelpOptions = true,
        description = "API tokens of `pricer server` (tracking and hub): once one exists, writes need one.",
        subcommands = {TokenCommand.Create.class, TokenCommand.ListTokens.class, TokenCommand.Revoke.class})
public final class TokenCommand {

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a token (shown once; the store keeps only its hash).")
    static final class Create implements Callable<Integer> {

        @Mixin RunsCommand.Home home;

        @Option(names = "--name", description = "What the token is for (default: ${DEFAULT-VALUE}).")
        String name = "default";

        @Option(names = "--user", description = "Who the server takes its caller for: the author of hub commits, and a namespace"
                + " it may always write to (default: ${DEFAULT-VALUE}).")
        String user = System.getProperty("user.name", "pricer");

        @Option(names = "--namespace", split = ",", description = "Hub namespaces it may write to and read privately, besides its user's"
                + " (default: * for all).")
        List<String> namespaces = List.of("*");

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            return UserErrors.reported("token create", this::run);
        }

        private Integer run() throws Exception {
            try (TrackStore store = home.open()) {
                Tokens.Created created = Tokens.create(store, name, user, namespaces);
                if (json) {
                    Map<String, Object> out = describe(created.token());
                    out.put("token", created.secret());
                    System.out.println(Json.MAPPER.writeValueAsString(out));
                } else {
                    System.out.println(created.secret());
                }
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List tokens (ids, never secrets), revoked ones too.")
    static final class ListTokens implements Callable<Integer> {

        @Mixin RunsCommand.Home home;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            return UserErrors.reported("token list", this::run);
        }

        private Integer run() throws Exception {
            try (TrackStore store = home.open()) {
                List<Token> tokens = store.tokens();
                if (json) {
                    System.out.println(Json.MAPPER.writeValueAsString(tokens.stream().map(TokenCommand::describe).toList()));
                    return 0;
                }
                System.out.printf("%-12s  %-20s  %-16s  %-20s  %-20s  %s%n", "id", "name", "user", "namespaces", "created", "revoked");
                for (Token t : tokens) {
                    System.out.printf("%-12s  %-20s  %-16s  %-20s  %-20s  %s%n", t.id(), t.name(), t.owner(), String.join(",", t.namespaces()),
                            Instant.ofEpochMilli(t.createdMs()), t.revokedMs() == null ? "" : Instant.ofEpochMilli(t.revokedMs()));
                }
            }
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a token: the server refuses it from its next request.")
    static final class Revoke implements Callable<Integer> {

        @Mixin RunsCommand.Home home;

        @Parameters(paramLabel = "TOKEN", description = "The token's id (from: pricer token list), or its name when only one active token has it.")
        String idOrName;

        @Option(names = "--json", description = "Print the revoked token as JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            return UserErrors.reported("token revoke", this::run);
        }

        private Integer run() throws Exception {
            try (TrackStore store = home.open()) {
                Token revoked = Tokens.revoke(store, idOrName);
                if (json) System.out.println(Json.MAPPER.writeValueAsString(describe(revoked)));
                else System.out.println("revoked token " + revoked.id() + " (" + revoked.name() + ")");
            }
            return 0;
        }
    }

    private static Map<String, Object> describe(Token token) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", token.id());
        out.put("name", token.name());
        out.put("user", token.owner());
        out.put("namespaces", token.namespaces());
        out.put("createdMs", token.createdMs());
        out.put("revokedMs", token.revokedMs());
        out.put("active", token.active());
        return out;
    }
}
