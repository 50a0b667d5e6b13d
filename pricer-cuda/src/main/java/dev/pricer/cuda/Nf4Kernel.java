package dev.pricer.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One way of running nf4.cu's dequantization; all give the same values bit for bit. {@code warpStores}: each warp
 * store instruction writes 512 contiguous bytes ({@code nf4_dequant_warps*}), else each thread writes 64 contiguous
 * bytes a group ({@code nf4_dequant_threads*}). {@code floatScales}: a first pass turns a double-quantized weight's
 * block scales into floats ({@code nf4_scales}), so the main pass loads one float per block instead of a code, its
 * nested map entry and the nested absmax. {@code persistent}: one wave of resident blocks, each thread with four
 * 16-byte loads of codes in flight, instead of a thread per 64 elements (two loads) capped at 16 blocks per SM.
 *
 * <p>The engine uses {@link #DEFAULT} unless {@code PRICER_CUDA_NF4} names another, e.g. {@code warps-scales-persistent};
 * {@code Nf4DequantBenchmark} measures them all.
 */
public record Nf4Kernel(boolean warpStores, boolean floatScales, boolean persistent) {

    public static final Nf4Kernel DEFAULT = new Nf4Kernel(false, false, false);

    /** The eight combinations, {@link #DEFAULT} first. */
    public static List<Nf4Kernel> all() {
        List<Nf4Kernel> all = new ArrayList<>();
        for (boolean persistent : new boolean[]{false, true}) {
            for (boolean floatScales : new boolean[]{false, true}) {
                for (boolean warpStores : new boolean[]{false, true}) all.add(new Nf4Kernel(warpStores, floatScales, persistent));
            }
        }
        return List.copyOf(all);
    }

    /** The kernel {@link #name() named} {@code name}; null or blank is {@link #DEFAULT}. */
    public static Nf4Kernel named(String name) {
        if (name == null || name.isBlank()) return DEFAULT;
        String wanted = name.strip().toLowerCase(Locale.ROOT);
        return all().stream().filter(k -> k.name().equals(wanted)).findFirst().orElseThrow(() -> new IllegalArgumentException(
                "no NF4 kernel named '" + name + "'; the kernels are " + all().stream().map(Nf4Kernel::name).toList()));
    }

    /** "threads" or "warps", then "-scales" and "-persistent" where they apply. */
    public String name() {
        return (warpStores ? "warps" : "threads") + (floatScales ? "-scales" : "") + (persistent ? "-persistent" : "");
    }

    /** 16-byte loads of codes per thread per pass of the kernel's grid-stride loop. */
    int loadsInFlight() {
        return persistent ? 4 : 2;
    }

    /** The entry point in nf4.cu for output type t. */
    String entry(ElementType t) {
        return "nf4_dequant_" + (warpStores ? "warps" : "threads") + loadsInFlight() + "_" + t.suffix();
    }

    @Override
    public String toString() {
        return name();
    }
}
