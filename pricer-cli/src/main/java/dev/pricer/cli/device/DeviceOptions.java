package dev.pricer.cli.device;

import dev.pricer.core.backend.Backend;
import dev.pricer.cuda.Cuda;
import dev.pricer.cuda.Devices;
import picocli.CommandLine.Option;

import java.util.function.Consumer;
import java.util.function.Supplier;

/** {@code --device} and {@code --precision}, shared by the commands that run the model (train, eval, predict). */
public final class DeviceOptions {

    @Option(names = "--device", paramLabel = "cuda|cpu",
            description = "Compute backend: cuda (the first GPU) or cpu (default: cuda when a GPU is usable, otherwise cpu).")
    String device;

    @Option(names = "--precision", paramLabel = "bf16|float32", defaultValue = "bf16",
            description = "On cuda: bf16 weights and activations with float32 LoRA and optimizer, or float32 throughout"
                    + " for checking (default: ${DEFAULT-VALUE}).")
    String precision;

    /**
     * The backend {@code --device} names; without it the GPU when one is usable, else the CPU, in which case
     * {@code note} hears why. {@code --device cuda} on a machine without a usable GPU fails, naming what is missing.
     */
    public Backend open(Consumer<String> note) {
        return open(note, Cuda::shared);
    }

    Backend open(Consumer<String> note, Supplier<Cuda> gpu) {
        Devices.Choice choice = Devices.open(device, Devices.precision(precision), gpu);
        if (choice.fallbackReason() != null) note.accept("running on the CPU: " + choice.fallbackReason());
        return choice.backend();
    }
}
