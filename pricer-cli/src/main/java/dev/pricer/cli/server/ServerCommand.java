package dev.pricer.cli.server;

import dev.pricer.cli.device.DeviceOptions;
import dev.pricer.core.backend.Backend;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.store.HubStore;
import dev.pricer.server.Access;
import dev.pricer.server.PricerServer;
import dev.pricer.server.ServerModule;
import dev.pricer.server.hub.HubLimits;
import dev.pricer.server.hub.HubModule;
import dev.pricer.server.hub.Predictions;
import dev.pricer.server.track.TrackModule;
import dev.pricer.track.TrackerOptions;
import dev.pricer.track.store.Tokens;
import dev.pricer.track.store.TrackStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

/** {@code pricer server}: the dashboard and the APIs, from one process, until Ctrl-C. */
@Command(name = "server", mixinStandardHelpOptions = true,
        description = "Serve the dashboard, the tracking API (and its MLflow subset) and the hub (and its Hugging Face API) from PRICER_HOME.")
public final class ServerCommand implements Callable<Integer> {

    /** How long a Try it request waits for the one before it (a base model's first load on a CPU takes a while). */
    static final Duration INFERENCE_PATIENCE = Duration.ofSeconds(60);

    @Option(names = "--host", description = "Address to bind (default: ${DEFAULT-VALUE}; 0.0.0.0 for every interface).")
    String host = "127.0.0.1";

    @Spec
    CommandSpec spec;

    private int port;

    @Option(names = "--port", defaultValue = "5050", description = "Port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    void port(int value) {
        if (value < 0 || value > 65_535) throw new ParameterException(spec.commandLine(), "--port must be 0 to 65535, not " + value);
        port = value;
    }

    @Option(names = "--home", description = "Pricer home folder (default: PRICER_HOME or ~/.pricer).")
    Path home = TrackerOptions.defaultHome();

    @Option(names = "--auth", description = "Writes need a token even on loopback while no token exists (then the server is"
            + " read-only until: pricer token create). Once a token exists, every server needs one for writes.")
    boolean auth;

    @Option(names = "--inference", description = "Price texts on the pages of adapter repositories, as the Hugging Face Hub's"
            + " inference widget (the base model, from this hub, is loaded at the first request, on --device).")
    boolean inference;

    @Mixin
    DeviceOptions device;

    @Override
    public Integer call() throws InterruptedException {
        Running running = start(host, port, home, auth, inference ? () -> device.open(System.out::println) : null);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            running.close();
            stopped.countDown();
        }, "pricer-server-stop"));
        System.out.println("pricer server: http://" + host + ":" + running.server().port() + "/ (store " + running.store().describe()
                + "; " + running.access().describe() + ")");
        System.out.flush();
        stopped.await();
        return 0;
    }

    /** The dashboard, tracking API, hub and evaluation results of {@code home}, served as {@code pricer server} serves them. */
    public static Running start(String host, int port, Path home, boolean auth) {
        return start(host, port, home, auth, null);
    }

    /** As {@link #start(String, int, Path, boolean)}, pricing texts on repository pages with models on {@code inference}'s backends (null: not). */
    public static Running start(String host, int port, Path home, boolean auth, Supplier<Backend> inference) {
        TrackStore store = TrackStore.openHome(home);
        int imported = Tokens.importLegacyHubTokens(store, home);
        if (imported > 0) {
            System.out.println("pricer server: moved " + imported + " token(s) of " + home.resolve(Tokens.LEGACY_HUB_FILE)
                    + " into the token store (file renamed " + Tokens.LEGACY_HUB_FILE + ".imported; see: pricer token list)");
        }
        Access access = Access.forServer(store, host, auth);
        List<ServerModule> modules = new ArrayList<>();
        modules.add(new TrackModule(store, access));
        Map<String, String> env = Hubs.environment(home);
        HubStore hub = Hubs.store(env);
        Predictions predictions = inference == null ? null : new Predictions(hub, home.resolve("cache"), inference, INFERENCE_PATIENCE);
        modules.add(new HubModule(hub, access, HubLimits.fromEnvironment(env), predictions, home.resolve("cache/viewer")));
        modules.add(new dev.pricer.server.eval.EvalModule(new dev.pricer.eval.results.ResultStore(home.resolve("eval"))));
        try {
            return new Running(PricerServer.start(host, port, modules), store, access, predictions);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /**
     * A started server, the store it reads, its access rule and how it prices texts (null: it does not); closing stops
     * the server, frees a loaded model and closes the store.
     */
    public record Running(PricerServer server, TrackStore store, Access access, Predictions predictions) implements AutoCloseable {
        @Override
        public void close() {
            server.close();
            if (predictions != null) predictions.close();
            store.close();
        }
    }
}
