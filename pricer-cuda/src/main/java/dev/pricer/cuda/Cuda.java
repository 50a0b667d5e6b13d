package dev.pricer.cuda;

import dev.pricer.cuda.kernel.KernelCache;
import dev.pricer.cuda.kernel.KernelSource;
import dev.pricer.cuda.lib.CublasLt;
import dev.pricer.cuda.lib.Driver;
import dev.pricer.cuda.lib.LibraryLocator;
import dev.pricer.cuda.lib.Nvrtc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One GPU, opened: the driver, NVRTC and cuBLASLt loaded, the device's primary context, one stream that
 * orders its work (and a side stream for work that may run beside it, {@link #onSideStream}), stream-ordered memory with a count of the bytes in use and their peak, and the
 * project's kernels compiled for this GPU's architecture on first use (through {@link KernelCache}).
 */
public final class Cuda {

    /** Kernel files that use an architecture's own instructions (Hopper's warpgroup MMA): see {@link #function}. */
    static final Set<String> ARCH_SPECIFIC = Set.of("nf4_gemm.cu");

    private static volatile Cuda shared;

    private final Driver driver;
    private final Nvrtc nvrtc;
    private final CublasLt cublasLt;
    private final int device;
    private final MemorySegment context;
    private final MemorySegment stream;
    private final int sidePriority;
    private volatile MemorySegment side;
    private final ThreadLocal<Boolean> onSide = ThreadLocal.withInitial(() -> false);
    private final String name;
    private final String arch;
    private final int multiprocessors;
    private final KernelCache cache;
    private final Map<String, MemorySegment> modules = new ConcurrentHashMap<>();
    private final Map<String, MemorySegment> functions = new ConcurrentHashMap<>();
    private final Map<Long, Integer> sharedLimits = new ConcurrentHashMap<>();
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);
    private final AtomicLong inUse = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();
    private final Gemm gemm;

    private Cuda(LibraryLocator locator, Map<String, String> env) {
        driver = Driver.load(locator);
        int init = driver.init();
        if (init != 0) {
            throw new CudaUnavailableException("CUDA is not available: cuInit in " + driver.library() + " returned "
                    + driver.errorName(init) + " (" + init + "): no usable NVIDIA GPU or driver");
        }
        if (driver.deviceCount() == 0) throw new CudaUnavailableException("CUDA is not available: the driver sees no GPU");
        nvrtc = Nvrtc.load(locator);
        cublasLt = CublasLt.load(locator);
        device = driver.device(0);
        name = driver.deviceName(device);
        arch = "sm_" + driver.attribute(device, Driver.ATTR_COMPUTE_CAPABILITY_MAJOR)
                + driver.attribute(device, Driver.ATTR_COMPUTE_CAPABILITY_MINOR);
        multiprocessors = driver.attribute(device, Driver.ATTR_MULTIPROCESSOR_COUNT);
        context = driver.retainPrimaryContext(device);
        makeCurrent();
        int[] priorities = driver.streamPriorities();
        stream = driver.createStream(priorities[1]);
        sidePriority = priorities[0];
        driver.keepPoolMemory(device);
        String nvrtcVersion = nvrtc.version();
        cache = new KernelCache(KernelCache.defaultDirectory(env), new KernelCache.Compiler() {
            @Override
            public String version() {
                return "nvrtc " + nvrtcVersion;
            }

            @Override
            public byte[] compile(KernelSource source, List<String> options) {
                return nvrtc.compile(source.fileName(), source.text(), source.headers(), options);
            }
        });
        gemm = Gemm.fromEnvironment(this, cublasLt, env);
    }

    /** Opens the first GPU, finding the libraries through the process environment. */
    public static Cuda open() {
        return open(LibraryLocator.system(), System.getenv());
    }

    public static Cuda open(LibraryLocator locator, Map<String, String> env) {
        return new Cuda(locator, env);
    }

    /** The process-wide instance, opened on first use; CUDA contexts are per process anyway. */
    public static Cuda shared() {
        Cuda c = shared;
        if (c == null) {
            synchronized (Cuda.class) {
                if (shared == null) shared = open();
                c = shared;
            }
        }
        return c;
    }

    public String deviceName() {
        return name;
    }

    public String arch() {
        return arch;
    }

    public int multiprocessors() {
        return multiprocessors;
    }

    public Gemm gemm() {
        return gemm;
    }

    /** The stream work goes to now: the main one, or the side stream inside {@link #onSideStream}. */
    MemorySegment stream() {
        makeCurrent();
        return onSide.get() ? sideStream() : stream;
    }

    private MemorySegment sideStream() {
        if (side == null) {
            synchronized (this) {
                if (side == null) side = driver.createStream(sidePriority);
            }
        }
        return side;
    }

    /**
     * Enqueues what {@code work} launches on the side stream instead of the main one, for work that may run beside
     * the main stream's (the next NF4 weight dequantized ahead, {@link Nf4Scratch}). The side stream has the lowest
     * priority and the main stream the highest, so where blocks of both wait for a multiprocessor, the main stream's
     * start first. Nothing orders the two streams but events: {@link #newEvent}, {@link #record}, {@link #await}.
     */
    void onSideStream(Runnable work) {
        onSide.set(true);
        try {
            work.run();
        } finally {
            onSide.set(false);
        }
    }

    /** An event for ordering the streams (no timing). */
    MemorySegment newEvent() {
        makeCurrent();
        return driver.createOrderingEvent();
    }

    /** Frees an event of {@link #newEvent()}'s. */
    void destroyEvent(MemorySegment event) {
        makeCurrent();
        driver.destroyEvent(event);
    }

    /** The event is reached once the work enqueued so far on the current stream ({@link #stream()}) is done. */
    void record(MemorySegment event) {
        driver.recordEvent(event, stream());
    }

    /** Work enqueued from now on the current stream waits until the event is reached; the host does not wait. */
    void await(MemorySegment event) {
        driver.streamWaitEvent(stream(), event);
    }

    Driver driver() {
        return driver;
    }

    CublasLt cublasLt() {
        return cublasLt;
    }

    /** The CUDA context is per thread: make ours current on whichever thread calls. */
    private void makeCurrent() {
        if (!current.get()) {
            driver.setCurrent(context);
            current.set(true);
        }
    }

    public DeviceBuffer allocate(long bytes) {
        long size = Math.max(bytes, 1);
        long address = driver.allocAsync(size, stream());
        long now = inUse.addAndGet(size);
        peak.accumulateAndGet(now, Math::max);
        return new DeviceBuffer(address, bytes);
    }

    public void free(DeviceBuffer buffer) {
        driver.freeAsync(buffer.address(), stream());
        inUse.addAndGet(-Math.max(buffer.bytes(), 1));
    }

    /** Bytes allocated through this object and not yet freed. */
    public long bytesInUse() {
        return inUse.get();
    }

    /** The most bytes ever in use since the last {@link #resetPeak()}. */
    public long peakBytes() {
        return peak.get();
    }

    public void resetPeak() {
        peak.set(inUse.get());
    }

    /** Free and total device memory as the driver reports them (all processes). */
    public long[] memoryInfo() {
        makeCurrent();
        return driver.memoryInfo();
    }

    public void upload(MemorySegment host, DeviceBuffer dst) {
        if (host.byteSize() > dst.bytes()) throw new IllegalArgumentException(host.byteSize() + " bytes into a " + dst.bytes() + "-byte buffer");
        driver.copyToDevice(dst.address(), host, host.byteSize(), stream());
    }

    public DeviceBuffer upload(MemorySegment host) {
        DeviceBuffer b = allocate(host.byteSize());
        upload(host, b);
        return b;
    }

    /** Copies to the host and waits for the copy (and all work before it). */
    public void download(DeviceBuffer src, MemorySegment host) {
        if (host.byteSize() > src.bytes()) throw new IllegalArgumentException(host.byteSize() + " bytes from a " + src.bytes() + "-byte buffer");
        driver.copyToHost(host, src.address(), host.byteSize(), stream());
        synchronize();
    }

    public void copy(DeviceBuffer src, DeviceBuffer dst, long bytes) {
        if (bytes > src.bytes() || bytes > dst.bytes()) throw new IllegalArgumentException("copy of " + bytes + " bytes between " + src + " and " + dst);
        driver.copyOnDevice(dst.address(), src.address(), bytes, stream());
    }

    public void zero(DeviceBuffer buffer) {
        driver.fillBytes(buffer.address(), (byte) 0, buffer.bytes(), stream());
    }

    /** Sets every 32-bit word of the buffer to {@code value}'s bits. */
    public void fill(DeviceBuffer buffer, float value) {
        driver.fillWords(buffer.address(), Float.floatToRawIntBits(value), buffer.bytes() / 4, stream());
    }

    /** Sets every 32-bit word of the buffer to {@code bits} (two bf16 values, say). */
    public void fillWords(DeviceBuffer buffer, int bits) {
        driver.fillWords(buffer.address(), bits, buffer.bytes() / 4, stream());
    }

    /** Waits for all work enqueued so far, the side stream's too. */
    public void synchronize() {
        makeCurrent();
        driver.synchronize(stream);
        if (side != null) driver.synchronize(side);
    }

    /**
     * A kernel entry point from one of the project's .cu files, compiled (or read from the cache) on first use. Files
     * in {@link #ARCH_SPECIFIC} compile for the architecture's own feature set ({@code sm_90a}), which only that
     * architecture runs.
     */
    MemorySegment function(String file, String entry) {
        return functions.computeIfAbsent(file + ":" + entry, key -> {
            MemorySegment module = modules.computeIfAbsent(file, f -> {
                byte[] cubin = cache.cubin(KernelSource.load(f), ARCH_SPECIFIC.contains(f) ? arch + "a" : arch);
                makeCurrent();
                try (Arena arena = Arena.ofConfined()) {
                    return driver.loadModule(arena.allocateFrom(ValueLayout.JAVA_BYTE, cubin));
                }
            });
            return driver.function(module, entry);
        });
    }

    /**
     * Launches a kernel. Arguments are passed by their Java type: {@code Integer} as int, {@code Long} as
     * long, {@code Float} as float, {@link DeviceBuffer} as its address and {@code null} as a null pointer.
     */
    void launch(MemorySegment function, int gridX, int gridY, int gridZ, int block, int sharedBytes, Object... args) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = arena.allocate(ValueLayout.ADDRESS, args.length);
            for (int i = 0; i < args.length; i++) {
                MemorySegment value = switch (args[i]) {
                    case null -> arena.allocateFrom(ValueLayout.JAVA_LONG, 0L);
                    case DeviceBuffer b -> arena.allocateFrom(ValueLayout.JAVA_LONG, b.address());
                    case Long l -> arena.allocateFrom(ValueLayout.JAVA_LONG, l);
                    case Integer n -> arena.allocateFrom(ValueLayout.JAVA_INT, n);
                    case Float f -> arena.allocateFrom(ValueLayout.JAVA_FLOAT, f);
                    case MemorySegment bytes -> bytes;  // a parameter passed by value as these bytes (a TMA descriptor)
                    default -> throw new IllegalArgumentException("kernel argument of type " + args[i].getClass());
                };
                params.setAtIndex(ValueLayout.ADDRESS, i, value);
            }
            driver.check(driver.launch(function, gridX, gridY, gridZ, block, 1, 1, sharedBytes, stream(), params), "cuLaunchKernel");
        }
    }

    /** How many blocks of {@code threads} threads of the kernel one multiprocessor holds at once. */
    int residentBlocks(MemorySegment function, int threads) {
        makeCurrent();
        return driver.residentBlocks(function, threads);
    }

    /**
     * Milliseconds of GPU time, between events recorded before and after it on the stream, of the work that
     * {@code enqueue} puts on the stream; waits for that work.
     */
    public float elapsedMillis(Runnable enqueue) {
        MemorySegment s = stream(), start = driver.createEvent(), end = driver.createEvent();
        try {
            driver.recordEvent(start, s);
            enqueue.run();
            driver.recordEvent(end, s);
            driver.synchronizeEvent(end);
            return driver.elapsedMillis(start, end);
        } finally {
            driver.destroyEvent(start);
            driver.destroyEvent(end);
        }
    }

    /** {@link Driver#tensorMap}, in the arena, for a kernel parameter of this context's launches. */
    MemorySegment tensorMap(Arena arena, int dataType, DeviceBuffer matrix, long columns, long rows, long rowBytes,
                            int boxColumns, int boxRows, int swizzle) {
        makeCurrent();
        return driver.tensorMap(arena, dataType, matrix.address(), columns, rows, rowBytes, boxColumns, boxRows, swizzle);
    }

    /** Raises a kernel's dynamic shared memory limit past the default 48 KiB (once per kernel and size). */
    void allowSharedMemory(MemorySegment function, int bytes) {
        sharedLimits.compute(function.address(), (f, limit) -> {
            if (limit != null && limit >= bytes) return limit;
            makeCurrent();
            driver.allowDynamicSharedMemory(function, bytes);
            return bytes;
        });
    }
}
