package dev.pricer.cuda;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.cpu.CpuBackend;

import java.util.Locale;

/**
 * Chooses the backend for {@code --device}: {@code cuda} (the GPU, or an error naming what is missing),
 * {@code cpu}, or {@code auto} (the GPU when one is usable, otherwise the CPU, with the reason).
 */
public final class Devices {

    /** The backend picked, and why when {@code auto} fell back to the CPU (null otherwise). */
    public record Choice(Backend backend, String fallbackReason) {
    }

    private Devices() {
    }

    public static Choice open(String device, CudaBackend.Precision precision) {
        return switch (device.toLowerCase(Locale.ROOT)) {
            case "cuda" -> new Choice(new CudaBackend(precision), null);
            case "cpu" -> new Choice(new CpuBackend(), null);
            case "auto" -> {
                try {
                    yield new Choice(new CudaBackend(precision), null);
                } catch (CudaUnavailableException e) {
                    yield new Choice(new CpuBackend(), e.getMessage());
                }
            }
            default -> throw new IllegalArgumentException("unknown device '" + device + "': use cuda, cpu or auto");
        };
    }
}
