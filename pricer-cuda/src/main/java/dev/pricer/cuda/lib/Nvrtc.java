package dev.pricer.cuda.lib;

import dev.pricer.cuda.CudaException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Map;

import static dev.pricer.cuda.lib.Driver.call;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** NVRTC: compiles CUDA C++ source to a CUBIN for one GPU architecture at run time. */
public final class Nvrtc {

    private final MethodHandle nvrtcVersion, nvrtcCreateProgram, nvrtcCompileProgram, nvrtcGetProgramLogSize,
            nvrtcGetProgramLog, nvrtcGetCUBINSize, nvrtcGetCUBIN, nvrtcDestroyProgram, nvrtcGetErrorString;

    private Nvrtc(NativeLibrary lib) {
        nvrtcVersion = lib.function("nvrtcVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        nvrtcCreateProgram = lib.function("nvrtcCreateProgram",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        nvrtcCompileProgram = lib.function("nvrtcCompileProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        nvrtcGetProgramLogSize = lib.function("nvrtcGetProgramLogSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        nvrtcGetProgramLog = lib.function("nvrtcGetProgramLog", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        nvrtcGetCUBINSize = lib.function("nvrtcGetCUBINSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        nvrtcGetCUBIN = lib.function("nvrtcGetCUBIN", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        nvrtcDestroyProgram = lib.function("nvrtcDestroyProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        nvrtcGetErrorString = lib.function("nvrtcGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    public static Nvrtc load(LibraryLocator locator) {
        return new Nvrtc(NativeLibrary.load(locator, LibraryLocator.Library.NVRTC));
    }

    /** "major.minor", part of the kernel cache key: another compiler may produce different code. */
    public String version() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment major = arena.allocate(JAVA_INT), minor = arena.allocate(JAVA_INT);
            check(call(() -> (int) nvrtcVersion.invokeExact(major, minor)), "nvrtcVersion");
            return major.get(JAVA_INT, 0) + "." + minor.get(JAVA_INT, 0);
        }
    }

    /**
     * Compiles {@code source} (named {@code fileName} in messages) with the given headers available to
     * {@code #include "name"}; a compile error carries NVRTC's log.
     */
    public byte[] compile(String fileName, String source, Map<String, String> headers, List<String> options) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment progOut = arena.allocate(ADDRESS);
            MemorySegment headerSources = arena.allocate(ADDRESS, Math.max(1, headers.size()));
            MemorySegment headerNames = arena.allocate(ADDRESS, Math.max(1, headers.size()));
            int i = 0;
            for (var header : headers.entrySet()) {
                headerNames.setAtIndex(ADDRESS, i, arena.allocateFrom(header.getKey()));
                headerSources.setAtIndex(ADDRESS, i, arena.allocateFrom(header.getValue()));
                i++;
            }
            MemorySegment src = arena.allocateFrom(source), name = arena.allocateFrom(fileName);
            int count = headers.size();
            check(call(() -> (int) nvrtcCreateProgram.invokeExact(progOut, src, name, count, headerSources, headerNames)),
                    "nvrtcCreateProgram(" + fileName + ")");
            MemorySegment prog = progOut.get(ADDRESS, 0);
            try {
                MemorySegment opts = arena.allocate(ADDRESS, Math.max(1, options.size()));
                for (int k = 0; k < options.size(); k++) opts.setAtIndex(ADDRESS, k, arena.allocateFrom(options.get(k)));
                int rc = call(() -> (int) nvrtcCompileProgram.invokeExact(prog, options.size(), opts));
                if (rc != 0) {
                    throw new CudaException("NVRTC could not compile " + fileName + " with " + options + ": "
                            + errorString(rc) + "\n" + log(arena, prog));
                }
                MemorySegment size = arena.allocate(JAVA_LONG);
                check(call(() -> (int) nvrtcGetCUBINSize.invokeExact(prog, size)), "nvrtcGetCUBINSize");
                MemorySegment cubin = arena.allocate(size.get(JAVA_LONG, 0));
                check(call(() -> (int) nvrtcGetCUBIN.invokeExact(prog, cubin)), "nvrtcGetCUBIN");
                return cubin.toArray(JAVA_BYTE);
            } finally {
                call(() -> (int) nvrtcDestroyProgram.invokeExact(progOut));
            }
        }
    }

    private String log(Arena arena, MemorySegment prog) {
        MemorySegment size = arena.allocate(JAVA_LONG);
        if (call(() -> (int) nvrtcGetProgramLogSize.invokeExact(prog, size)) != 0) return "(no log)";
        MemorySegment text = arena.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
        if (call(() -> (int) nvrtcGetProgramLog.invokeExact(prog, text)) != 0) return "(no log)";
        return text.getString(0);
    }

    private String errorString(int result) {
        try {
            MemorySegment text = (MemorySegment) nvrtcGetErrorString.invokeExact(result);
            return text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private void check(int result, String what) {
        if (result != 0) throw new CudaException(what + " failed: " + errorString(result));
    }
}
