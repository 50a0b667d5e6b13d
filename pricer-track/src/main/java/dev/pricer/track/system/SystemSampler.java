package dev.pricer.track.system;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Reads the machine's load for the {@code system/*} metrics: CPU and memory from the JVM's operating system
 * bean, and GPU utilisation and memory from {@code nvidia-smi} when the machine has one.
 */
public final class SystemSampler {

    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final boolean hasNvidiaSmi = onPath("nvidia-smi");

    public Map<String, Double> sample() {
        Map<String, Double> values = new LinkedHashMap<>();
        double cpu = os.getCpuLoad();
        if (cpu >= 0) values.put("system/cpu_percent", cpu * 100);
        double process = os.getProcessCpuLoad();
        if (process >= 0) values.put("system/process_cpu_percent", process * 100);
        long total = os.getTotalMemorySize();
        values.put("system/memory_used_mb", (total - os.getFreeMemorySize()) / 1e6);
        values.put("system/memory_percent", 100.0 * (total - os.getFreeMemorySize()) / total);
        Runtime rt = Runtime.getRuntime();
        values.put("system/jvm_heap_used_mb", (rt.totalMemory() - rt.freeMemory()) / 1e6);
        if (hasNvidiaSmi) values.putAll(gpu());
        return values;
    }

    /** One line per GPU: {@code utilization.gpu, memory.used} (MiB), summed into per-GPU keys. */
    private static Map<String, Double> gpu() {
        Map<String, Double> values = new LinkedHashMap<>();
        try {
            Process p = new ProcessBuilder("nvidia-smi", "--query-gpu=utilization.gpu,memory.used",
                    "--format=csv,noheader,nounits").redirectErrorStream(true).start();
            if (!p.waitFor(2, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return values;
            }
            String[] lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip().split("\n");
            for (int gpu = 0; gpu < lines.length; gpu++) {
                String[] fields = lines[gpu].split(",");
                if (fields.length != 2) continue;
                values.put("system/gpu" + gpu + "_utilization_percent", Double.parseDouble(fields[0].strip()));
                values.put("system/gpu" + gpu + "_memory_used_mb", Double.parseDouble(fields[1].strip()) * 1.048576);
            }
        } catch (IOException | NumberFormatException e) {
            return values;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return values;
    }

    private static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, program))) return true;
        }
        return false;
    }
}
