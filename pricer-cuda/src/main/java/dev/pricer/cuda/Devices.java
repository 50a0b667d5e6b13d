package dev.pricer.cuda;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.cpu.CpuBackend;

import java.util.Locale;
import java.util.function.Supplier;

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

    /** {@code device} is cuda, cpu or auto (null means auto); {@code precision} applies to cuda. */
    public static Choice open(String device, CudaBackend.Precision precision) {
        return open(device, precision, Cuda::shared);
    }

    /** As {@link #open(String, CudaBackend.Precision)}, opening the GPU through {@code gpu}. */
    public static Choice open(String device, CudaBackend.Precision precision, Supplier<Cuda> gpu) {
        String d = device == null ? "auto" : device.toLowerCase(Locale.ROOT);
        return switch (d) {
            case "cuda" -> {
                try {
                    yield new Choice(new CudaBackend(gpu.get(), precision), null);
                } catch (CudaUnavailableException e) {
                    throw new CudaUnavailableException("--device cuda: " + e.getMessage() + " (use --device cpu to run on the CPU)", e);
                }
            }
            case "cpu" -> new Choice(new CpuBackend(), null);
            case "auto" -> {
                try {
                    yield new Choice(new CudaBackend(gpu.get(), precision), null);
                } catch (CudaUnavailableException e) {
                    String where = e.summary().equals(e.getMessage()) ? "" : "; --device cuda says where it looked";
                    yield new Choice(new CpuBackend(), e.summary() + where);
                }
            }
            default -> throw new IllegalArgumentException("unknown device '" + device + "': use cuda or cpu (or auto)");
        };
    }

    /** bf16 (the default: bf16 weights and activations, float32 LoRA and optimizer) or float32 (for checking). */
    public static CudaBackend.Precision precision(String name) {
        return switch (name == null ? "bf16" : name.toLowerCase(Locale.ROOT)) {
            case "bf16", "bfloat16" -> CudaBackend.Precision.BF16;
            case "f32", "fp32", "float32" -> CudaBackend.Precision.FLOAT32;
            default -> throw new IllegalArgumentException("unknown precision '" + name + "': use bf16 or float32");
        };
    }
}
