package dev.pricer.cuda.lib;

import dev.pricer.cuda.CudaException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The part of the CUDA driver API the backend uses: device, primary context, a stream, stream-ordered
 * memory, copies, module loading, occupancy, kernel launch, TMA descriptors and events (to time work on the GPU).
 * Device pointers are {@code long}s; every call's result is checked and a failure names the call and the driver's
 * error name.
 */
public final class Driver {

    public static final int ATTR_MULTIPROCESSOR_COUNT = 16;
    public static final int ATTR_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int ATTR_COMPUTE_CAPABILITY_MINOR = 76;
    public static final int ATTR_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
    private static final int FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
    private static final int MEMPOOL_ATTR_RELEASE_THRESHOLD = 4;
    /** CUtensorMapDataType values and the 128-byte CUtensorMapSwizzle. */
    public static final int TENSOR_UINT8 = 0;
    public static final int TENSOR_BFLOAT16 = 9;
    public static final int SWIZZLE_NONE = 0;
    public static final int SWIZZLE_128B = 3;
    private static final int TENSOR_MAP_BYTES = 128;
    private static final int TENSOR_MAP_ALIGNMENT = 64;
    private static final int L2_PROMOTION_128B = 2;

    private final MethodHandle cuInit, cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet, cuDeviceGetName,
            cuDeviceGetAttribute, cuDevicePrimaryCtxRetain, cuCtxSetCurrent, cuCtxGetStreamPriorityRange, cuStreamCreateWithPriority,
            cuStreamSynchronize, cuStreamWaitEvent,
            cuMemAllocAsync, cuMemFreeAsync, cuDeviceGetDefaultMemPool, cuMemPoolSetAttribute, cuMemGetInfo,
            cuMemcpyHtoDAsync, cuMemcpyDtoHAsync, cuMemcpyDtoDAsync, cuMemsetD8Async, cuMemsetD32Async,
            cuModuleLoadData, cuModuleGetFunction, cuFuncSetAttribute, cuOccupancyMaxActiveBlocksPerMultiprocessor,
            cuLaunchKernel, cuEventCreate, cuEventRecord, cuEventSynchronize, cuEventElapsedTime, cuEventDestroy, cuGetErrorName,
            cuTensorMapEncodeTiled;
    private final String library;

    private Driver(NativeLibrary lib) {
        library = lib.name();
        cuInit = lib.function("cuInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        cuDriverGetVersion = lib.function("cuDriverGetVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cuDeviceGetCount = lib.function("cuDeviceGetCount", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cuDeviceGet = lib.function("cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDeviceGetName = lib.function("cuDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDeviceGetAttribute = lib.function("cuDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDevicePrimaryCtxRetain = lib.function("cuDevicePrimaryCtxRetain", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuCtxSetCurrent = lib.function("cuCtxSetCurrent", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cuCtxGetStreamPriorityRange = lib.function("cuCtxGetStreamPriorityRange", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuStreamCreateWithPriority = lib.function("cuStreamCreateWithPriority", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuStreamSynchronize = lib.function("cuStreamSynchronize", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cuStreamWaitEvent = lib.function("cuStreamWaitEvent", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        cuMemAllocAsync = lib.function("cuMemAllocAsync", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
        cuMemFreeAsync = lib.function("cuMemFreeAsync", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS));
        cuDeviceGetDefaultMemPool = lib.function("cuDeviceGetDefaultMemPool", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuMemPoolSetAttribute = lib.function("cuMemPoolSetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        cuMemGetInfo = lib.function("cuMemGetInfo_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuMemcpyHtoDAsync = lib.function("cuMemcpyHtoDAsync_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
        cuMemcpyDtoHAsync = lib.function("cuMemcpyDtoHAsync_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
        cuMemcpyDtoDAsync = lib.function("cuMemcpyDtoDAsync_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
        cuMemsetD8Async = lib.function("cuMemsetD8Async", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS));
        cuMemsetD32Async = lib.function("cuMemsetD32Async", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS));
        cuModuleLoadData = lib.function("cuModuleLoadData", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuModuleGetFunction = lib.function("cuModuleGetFunction", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuFuncSetAttribute = lib.function("cuFuncSetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuOccupancyMaxActiveBlocksPerMultiprocessor = lib.function("cuOccupancyMaxActiveBlocksPerMultiprocessor",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG));
        cuLaunchKernel = lib.function("cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuEventCreate = lib.function("cuEventCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuEventRecord = lib.function("cuEventRecord", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuEventSynchronize = lib.function("cuEventSynchronize", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cuEventElapsedTime = lib.function("cuEventElapsedTime", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuEventDestroy = lib.function("cuEventDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cuGetErrorName = lib.function("cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        cuTensorMapEncodeTiled = lib.function("cuTensorMapEncodeTiled", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    }

    public static Driver load(LibraryLocator locator) {
        return new Driver(NativeLibrary.load(locator, LibraryLocator.Library.DRIVER));
    }

    public String library() {
        return library;
    }

    /** cuInit's raw result: 0, or e.g. 100 (no device) and 35 (driver older than the runtime). */
    public int init() {
        return call(() -> (int) cuInit.invokeExact(0));
    }

    public String errorName(int result) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int rc = call(() -> (int) cuGetErrorName.invokeExact(result, out));
            if (rc != 0) return "CUDA error " + result;
            return out.get(ADDRESS, 0).reinterpret(256).getString(0);
        }
    }

    public void check(int result, String what) {
        if (result != 0) throw new CudaException(what + " failed: " + errorName(result) + " (" + result + ")");
    }

    public int driverVersion() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            check(call(() -> (int) cuDriverGetVersion.invokeExact(v)), "cuDriverGetVersion");
            return v.get(JAVA_INT, 0);
        }
    }

    public int deviceCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            check(call(() -> (int) cuDeviceGetCount.invokeExact(v)), "cuDeviceGetCount");
            return v.get(JAVA_INT, 0);
        }
    }

    public int device(int ordinal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            check(call(() -> (int) cuDeviceGet.invokeExact(v, ordinal)), "cuDeviceGet(" + ordinal + ")");
            return v.get(JAVA_INT, 0);
        }
    }

    public String deviceName(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(256);
            check(call(() -> (int) cuDeviceGetName.invokeExact(name, 256, device)), "cuDeviceGetName");
            return name.getString(0);
        }
    }

    public int attribute(int device, int attribute) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            check(call(() -> (int) cuDeviceGetAttribute.invokeExact(v, attribute, device)), "cuDeviceGetAttribute(" + attribute + ")");
            return v.get(JAVA_INT, 0);
        }
    }

    public MemorySegment retainPrimaryContext(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ADDRESS);
            check(call(() -> (int) cuDevicePrimaryCtxRetain.invokeExact(v, device)), "cuDevicePrimaryCtxRetain");
            return v.get(ADDRESS, 0);
        }
    }

    public void setCurrent(MemorySegment context) {
        check(call(() -> (int) cuCtxSetCurrent.invokeExact(context)), "cuCtxSetCurrent");
    }

    /**
     * The current context's stream priorities, {least, greatest}: numerically the greatest priority is the smaller
     * (e.g. {0, -5}), and the GPU starts a waiting block of a higher-priority stream's kernel first.
     */
    public int[] streamPriorities() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment least = arena.allocate(JAVA_INT), greatest = arena.allocate(JAVA_INT);
            check(call(() -> (int) cuCtxGetStreamPriorityRange.invokeExact(least, greatest)), "cuCtxGetStreamPriorityRange");
            return new int[]{least.get(JAVA_INT, 0), greatest.get(JAVA_INT, 0)};
        }
    }

    /** A stream that does not synchronize with the legacy default stream (CU_STREAM_NON_BLOCKING), of this priority. */
    public MemorySegment createStream(int priority) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ADDRESS);
            check(call(() -> (int) cuStreamCreateWithPriority.invokeExact(v, 1, priority)), "cuStreamCreateWithPriority");
            return v.get(ADDRESS, 0);
        }
    }

    /** Work enqueued on the stream after this call waits until the event's recorded work is done; the host does not wait. */
    public void streamWaitEvent(MemorySegment stream, MemorySegment event) {
        check(call(() -> (int) cuStreamWaitEvent.invokeExact(stream, event, 0)), "cuStreamWaitEvent");
    }

    public void synchronize(MemorySegment stream) {
        check(call(() -> (int) cuStreamSynchronize.invokeExact(stream)), "cuStreamSynchronize");
    }

    /** Keeps freed memory in the device's default pool instead of returning it at each synchronisation. */
    public void keepPoolMemory(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pool = arena.allocate(ADDRESS);
            check(call(() -> (int) cuDeviceGetDefaultMemPool.invokeExact(pool, device)), "cuDeviceGetDefaultMemPool");
            MemorySegment threshold = arena.allocateFrom(JAVA_LONG, -1L);
            MemorySegment p = pool.get(ADDRESS, 0);
            check(call(() -> (int) cuMemPoolSetAttribute.invokeExact(p, MEMPOOL_ATTR_RELEASE_THRESHOLD, threshold)), "cuMemPoolSetAttribute");
        }
    }

    public long allocAsync(long bytes, MemorySegment stream) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_LONG);
            check(call(() -> (int) cuMemAllocAsync.invokeExact(v, bytes, stream)), "cuMemAllocAsync(" + bytes + " bytes)");
            return v.get(JAVA_LONG, 0);
        }
    }

    public void freeAsync(long pointer, MemorySegment stream) {
        check(call(() -> (int) cuMemFreeAsync.invokeExact(pointer, stream)), "cuMemFreeAsync");
    }

    /** Free and total device memory in bytes. */
    public long[] memoryInfo() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(JAVA_LONG), total = arena.allocate(JAVA_LONG);
            check(call(() -> (int) cuMemGetInfo.invokeExact(free, total)), "cuMemGetInfo");
            return new long[]{free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
        }
    }

    public void copyToDevice(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        check(call(() -> (int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream)), "cuMemcpyHtoDAsync");
    }

    public void copyToHost(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        check(call(() -> (int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream)), "cuMemcpyDtoHAsync");
    }

    public void copyOnDevice(long dst, long src, long bytes, MemorySegment stream) {
        check(call(() -> (int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream)), "cuMemcpyDtoDAsync");
    }

    public void fillBytes(long dst, byte value, long count, MemorySegment stream) {
        check(call(() -> (int) cuMemsetD8Async.invokeExact(dst, value, count, stream)), "cuMemsetD8Async");
    }

    public void fillWords(long dst, int value, long count, MemorySegment stream) {
        check(call(() -> (int) cuMemsetD32Async.invokeExact(dst, value, count, stream)), "cuMemsetD32Async");
    }

    /** Loads a CUBIN image; the segment must stay readable for the duration of the call only. */
    public MemorySegment loadModule(MemorySegment image) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ADDRESS);
            check(call(() -> (int) cuModuleLoadData.invokeExact(v, image)), "cuModuleLoadData");
            return v.get(ADDRESS, 0);
        }
    }

    public MemorySegment function(MemorySegment module, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ADDRESS);
            MemorySegment cname = arena.allocateFrom(name);
            check(call(() -> (int) cuModuleGetFunction.invokeExact(v, module, cname)), "cuModuleGetFunction(" + name + ")");
            return v.get(ADDRESS, 0);
        }
    }

    public void allowDynamicSharedMemory(MemorySegment function, int bytes) {
        check(call(() -> (int) cuFuncSetAttribute.invokeExact(function, FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes)),
                "cuFuncSetAttribute(max dynamic shared memory " + bytes + ")");
    }

    /** How many blocks of {@code threads} threads (no dynamic shared memory) of the kernel fit on one multiprocessor at once. */
    public int residentBlocks(MemorySegment function, int threads) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            check(call(() -> (int) cuOccupancyMaxActiveBlocksPerMultiprocessor.invokeExact(v, function, threads, 0L)),
                    "cuOccupancyMaxActiveBlocksPerMultiprocessor");
            return v.get(JAVA_INT, 0);
        }
    }

    /**
     * A TMA descriptor (CUtensorMap) of the row-major matrix of {@code rows} rows of {@code columns} elements, rows
     * {@code rowBytes} apart, at the device address, copied in boxes of {@code boxRows} × {@code boxColumns} with the
     * given swizzle; boxes reaching past the matrix read zeros. Allocated in the arena, for a kernel parameter.
     */
    public MemorySegment tensorMap(Arena arena, int dataType, long address, long columns, long rows, long rowBytes,
                                   int boxColumns, int boxRows, int swizzle) {
        MemorySegment map = arena.allocate(TENSOR_MAP_BYTES, TENSOR_MAP_ALIGNMENT);
        MemorySegment dims = arena.allocateFrom(JAVA_LONG, columns, rows), strides = arena.allocateFrom(JAVA_LONG, rowBytes);
        MemorySegment box = arena.allocateFrom(JAVA_INT, boxColumns, boxRows), elementStrides = arena.allocateFrom(JAVA_INT, 1, 1);
        check(call(() -> (int) cuTensorMapEncodeTiled.invokeExact(map, dataType, 2, address, dims, strides, box, elementStrides,
                0, swizzle, L2_PROMOTION_128B, 0)), "cuTensorMapEncodeTiled(" + rows + "×" + columns + " of type " + dataType
                + ", rows of " + rowBytes + " bytes at 0x" + Long.toHexString(address) + ", boxes " + boxRows + "×" + boxColumns + ")");
        return map;
    }

    public int launch(MemorySegment function, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes,
                      MemorySegment stream, MemorySegment params) {
        return call(() -> (int) cuLaunchKernel.invokeExact(function, gx, gy, gz, bx, by, bz, sharedBytes, stream,
                params, MemorySegment.NULL));
    }

    /** A new event that records timing (CU_EVENT_DEFAULT). */
    public MemorySegment createEvent() {
        return createEvent(0);
    }

    /** A new event for ordering streams only: without timing (CU_EVENT_DISABLE_TIMING) recording it costs less. */
    public MemorySegment createOrderingEvent() {
        return createEvent(2);
    }

    private MemorySegment createEvent(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ADDRESS);
            check(call(() -> (int) cuEventCreate.invokeExact(v, flags)), "cuEventCreate");
            return v.get(ADDRESS, 0);
        }
    }

    /** Marks the event as reached once the stream's work enqueued so far is done. */
    public void recordEvent(MemorySegment event, MemorySegment stream) {
        check(call(() -> (int) cuEventRecord.invokeExact(event, stream)), "cuEventRecord");
    }

    public void synchronizeEvent(MemorySegment event) {
        check(call(() -> (int) cuEventSynchronize.invokeExact(event)), "cuEventSynchronize");
    }

    /** Milliseconds of GPU time between two reached events. */
    public float elapsedMillis(MemorySegment start, MemorySegment end) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_FLOAT);
            check(call(() -> (int) cuEventElapsedTime.invokeExact(v, start, end)), "cuEventElapsedTime");
            return v.get(JAVA_FLOAT, 0);
        }
    }

    public void destroyEvent(MemorySegment event) {
        check(call(() -> (int) cuEventDestroy.invokeExact(event)), "cuEventDestroy");
    }

    @FunctionalInterface
    interface NativeCall {
        int invoke() throws Throwable;
    }

    static int call(NativeCall c) {
        try {
            return c.invoke();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
