package dev.pricer.cuda.kernel;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The kernel files ship on the class path with their headers resolved. */
class KernelSourceTest {

    @ParameterizedTest
    @ValueSource(strings = {"attention.cu", "attention_gemm.cu", "attention_mma.cu", "loss.cu", "optim.cu", "rows.cu"})
    void everyKernelFileLoadsWithItsHeader(String file) {
        KernelSource source = KernelSource.load(file);
        assertTrue(source.text().contains("__global__") || source.text().contains("EXPORT2"), file);
        assertEquals(List.of("common.cuh"), List.copyOf(source.headers().keySet()));
        assertTrue(source.headers().get("common.cuh").contains("struct bf16"));
    }

    /** The element-wise files include vector.cuh, which includes common.cuh: headers of headers resolve too. */
    @ParameterizedTest
    @ValueSource(strings = {"norm.cu", "rope.cu", "swiglu.cu", "elementwise.cu"})
    void headersOfHeadersLoad(String file) {
        KernelSource source = KernelSource.load(file);
        assertTrue(source.text().contains("_vec"), file);
        assertEquals(List.of("vector.cuh", "common.cuh"), List.copyOf(source.headers().keySet()));
        assertTrue(source.headers().get("vector.cuh").contains("load8"));
    }

    /** Both NF4 kernels take the scale and bf16 rounding they must share from nf4.cuh, which includes common.cuh. */
    @ParameterizedTest
    @ValueSource(strings = {"nf4.cu", "nf4_gemm.cu"})
    void nf4KernelsShareTheirHeader(String file) {
        KernelSource source = KernelSource.load(file);
        assertEquals(List.of("nf4.cuh", "common.cuh"), List.copyOf(source.headers().keySet()));
        assertTrue(source.headers().get("nf4.cuh").contains("nf4_nested_scale"));
    }

    @Test
    void missingFileIsNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> KernelSource.load("nope.cu"));
        assertTrue(e.getMessage().contains("nope.cu"));
    }
}
