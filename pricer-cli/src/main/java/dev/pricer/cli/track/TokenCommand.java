package dev.pricer.cli.track;

import dev.pricer.track.TrackerOptions;
import dev.pricer.track.store.Tokens;
import dev.pricer.track.store.TrackStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code pricer token create}: a bearer token for a server started with {@code --auth}. */
@Command(name = "token", mixinStandardHelpOptions = true, description = "API tokens for `pricer server --auth`.",
        subcommands = TokenCommand.Create.class)
public final class TokenCommand {

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a token (shown once; the server's store keeps only its hash).")
    static final class Create implements Callable<Integer> {

        @Option(names = "--name", description = "What the token is for (default: ${DEFAULT-VALUE}).")
        String name = "default";

        @Option(names = "--home", description = "The server's Pricer home (default: PRICER_HOME or ~/.pricer).")
        Path home = TrackerOptions.defaultHome();

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            return UserErrors.reported("token create", this::run);
        }

        private Integer run() throws Exception {
            try (TrackStore store = TrackStore.openHome(home)) {
                String token = Tokens.create(store, name);
                if (json) System.out.println(Json.MAPPER.writeValueAsString(Map.of("name", name, "token", token)));
                else System.out.println(token);
            }
            return 0;
        }
    }
}
