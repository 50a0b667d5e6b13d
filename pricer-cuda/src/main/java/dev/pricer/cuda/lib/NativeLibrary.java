package dev.pricer.cuda.lib;

import dev.pricer.cuda.CudaUnavailableException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/** One loaded shared library and the downcall handles taken from it. Libraries stay loaded for the process. */
final class NativeLibrary {

    private static final Linker LINKER = Linker.nativeLinker();

    private final String name;
    private final SymbolLookup lookup;

    private NativeLibrary(String name, SymbolLookup lookup) {
        this.name = name;
        this.lookup = lookup;
    }

    /**
     * Loads the library from the search path; failing that, by its plain file names through the dynamic
     * linker's own cache (where distributions register the driver).
     */
    static NativeLibrary load(LibraryLocator locator, LibraryLocator.Library library) {
        var path = locator.find(library);
        if (path.isPresent()) return open(path.get());
        for (String fileName : library.fileNames()) {
            try {
                return new NativeLibrary(fileName, SymbolLookup.libraryLookup(fileName, Arena.global()));
            } catch (IllegalArgumentException notInCache) {
                // try the next name
            }
        }
        throw locator.missing(library);
    }

    private static NativeLibrary open(Path file) {
        try {
            return new NativeLibrary(file.toString(), SymbolLookup.libraryLookup(file, Arena.global()));
        } catch (IllegalArgumentException e) {
            throw new CudaUnavailableException("CUDA is not available: " + file + " exists but cannot be loaded", e);
        }
    }

    MethodHandle function(String symbol, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(lookup.find(symbol).orElseThrow(() ->
                new CudaUnavailableException(name + " has no function " + symbol + ": the library is too old")), descriptor);
    }

    String name() {
        return name;
    }
}
