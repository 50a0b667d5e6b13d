package dev.pricer.cli.device;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.core.backend.Backend;
import dev.pricer.cuda.Cuda;
import dev.pricer.cuda.CudaBackend;
import dev.pricer.cuda.CudaUnavailableException;
import dev.pricer.cuda.Devices;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code pricer device}: which backend {@code --device} picks here, the GPU's name and architecture, or why not. */
@Command(name = "device", mixinStandardHelpOptions = true,
        description = "Show the compute backend: the GPU (CUDA) when usable, otherwise the CPU and the reason.")
public final class DeviceCommand implements Callable<Integer> {

    @Option(names = "--device", defaultValue = "auto", description = "cuda, cpu or auto (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--precision", defaultValue = "bf16", description = "bf16 or float32, on cuda (default: ${DEFAULT-VALUE})")
    String precision;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Devices.Choice choice;
        try {
            choice = Devices.open(device, Devices.precision(precision));
        } catch (CudaUnavailableException e) {
            System.err.println("pricer device: " + e.getMessage());
            return 1;
        }
        Backend backend = choice.backend();
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("backend", backend.name());
        if (backend instanceof CudaBackend) {
            Cuda cuda = Cuda.shared();
            long[] memory = cuda.memoryInfo();
            info.put("gpu", cuda.deviceName());
            info.put("arch", cuda.arch());
            info.put("multiprocessors", cuda.multiprocessors());
            info.put("memory_free_bytes", memory[0]);
            info.put("memory_total_bytes", memory[1]);
            info.put("cublaslt_version", cuda.gemm().libraryVersion());
        }
        if (choice.fallbackReason() != null) info.put("cuda_unavailable", choice.fallbackReason());
        if (json) {
            System.out.println(new ObjectMapper().writeValueAsString(info));
        } else {
            info.forEach((key, value) -> System.out.println(key + ": " + value));
        }
        backend.close();
        return 0;
    }
}
