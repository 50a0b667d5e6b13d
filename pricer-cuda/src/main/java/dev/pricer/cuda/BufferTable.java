package dev.pricer.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A table of longs (buffer addresses and lengths) on the device, for the kernels that walk a whole list of
 * buffers in one launch. The trainer passes the same parameters every step, so the table is uploaded again
 * only when its contents change.
 */
final class BufferTable {

    private final Cuda cuda;
    private long[] contents;
    private DeviceBuffer memory;

    BufferTable(Cuda cuda) {
        this.cuda = cuda;
    }

    DeviceBuffer of(long[] values) {
        if (Arrays.equals(values, contents)) return memory;
        if (memory != null) cuda.free(memory);
        try (Arena arena = Arena.ofConfined()) {
            memory = cuda.upload(arena.allocateFrom(ValueLayout.JAVA_LONG, values));
            cuda.synchronize();
        }
        contents = values.clone();
        return memory;
    }

    /** Frees the table, once the work that reads it is done. */
    void close() {
        if (memory != null) cuda.free(memory);
        memory = null;
        contents = null;
    }
}
