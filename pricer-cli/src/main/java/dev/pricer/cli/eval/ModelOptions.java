package dev.pricer.cli.eval;

import dev.pricer.cli.device.DeviceOptions;
import dev.pricer.cli.progress.TransferBar;
import dev.pricer.cli.train.BaseModels;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.model.Quantization;
import dev.pricer.eval.checkpoint.Checkpoints;
import dev.pricer.eval.checkpoint.PricingModel;
import dev.pricer.eval.predict.Decoding;
import dev.pricer.eval.predict.PricePredictor;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.LocalHub;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/** Where models come from and how prices are decoded: shared by {@code predict} and {@code eval}. */
final class ModelOptions {

    @Option(names = "--base", description = "Base model: a folder or REPO[@REV] on the hub, else on the Hugging Face Hub"
            + " (default: the adapter's base_model_name_or_path).")
    String base;

    @Option(names = "--decoding", defaultValue = PricePredictor.DEFAULT_DECODING, description = "greedy or weighted (default: ${DEFAULT-VALUE}).")
    String decoding;

    @Option(names = "--top-k", defaultValue = "" + PricePredictor.DEFAULT_TOP_K, description = "Tokens weighed by the weighted decoding (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--batch", defaultValue = "16", description = "Prompts per forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--quantize", defaultValue = "none", description = "nf4: hold the base's decoder projections in 4-bit NF4,"
            + " as QLoRA trained the adapter (default: ${DEFAULT-VALUE}; a bitsandbytes 4-bit base is NF4 anyway).")
    String quantize;

    @Option(names = "--hub-url", description = "Hub server URL (default: $PRICER_HUB_URL, else $PRICER_SERVER, else the local hub).")
    URI hubUrl;

    @Option(names = "--hub-store", description = "Local hub folder (default: $PRICER_HOME/hub).")
    Path hubStore;

    @Option(names = "--home", description = "Pricer home: model cache, tracking store and local hub (default: $PRICER_HOME, else ~/.pricer).")
    Path home;

    @Mixin
    DeviceOptions device;

    Path home() {
        return home != null ? home : dev.pricer.track.TrackerOptions.defaultHome();
    }

    /** --hub-url, else --hub-store, else the environment's hub, whose local store is --home's when it is given (as train's). */
    HubClient hub() {
        Map<String, String> env = home != null ? Hubs.environment(home) : System.getenv();
        if (hubUrl != null) return Hubs.remote(hubUrl, Hubs.token(env));
        if (hubStore != null) return new LocalHub(Hubs.local(hubStore), env.getOrDefault("PRICER_USER", "pricer"));
        return Hubs.fromEnvironment(env);
    }

    /** Downloaded checkpoints are kept by commit sha under {@code $PRICER_HOME/cache}. */
    Checkpoints checkpoints(HubClient hub, PrintWriter err) {
        return new Checkpoints(hub, home().resolve("cache"), TransferBar.on(err));
    }

    Decoding decoding() {
        return Decoding.parse(decoding);
    }

    /**
     * The backend of --device, for the command to close once its models are closed; a fall-back to the CPU is said
     * to {@code note} (the command's stderr, so that JSON on stdout stays clean). One a command: the models it opens
     * share it.
     */
    Backend backend(Consumer<String> note) {
        return device.open(note);
    }

    /**
     * The base of the adapter in {@code adapterDir}: --base, else the one the adapter names, from the hub or, for a
     * Hugging Face name the hub lacks, downloaded as `pricer train --base hf:NAME` does (said on {@code err}).
     */
    Path baseOf(Path adapterDir, Checkpoints checkpoints, PrintWriter err) {
        return PricingModel.baseOf(base, adapterDir, checkpoints,
                name -> BaseModels.huggingFace(name, home(), System.getenv(), err::println, TransferBar.on(err)));
    }

    /** The base in {@code baseDir} with the adapter in {@code adapterDir} (null: none), quantized as asked, on {@code backend}. */
    PricingModel open(Backend backend, Path baseDir, Path adapterDir) {
        return PricingModel.open(baseDir, adapterDir, backend, Quantization.parse(quantize));
    }
}
