package dev.pricer.cuda.lib;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Reading an array of cublasLtMatmulHeuristicResult_t (no GPU needed): {algo: 8 × uint64, size_t workspaceSize,
 * cublasStatus_t state, float wavesCount, int reserved[4]}, 96 bytes each, as cublasLt.h declares it.
 */
class CublasLtResultsTest {

    @Test
    void readsEachResultsAlgorithmWorkspaceAndState() {
        try (Arena arena = Arena.ofConfined()) {
            int count = 3;
            MemorySegment results = arena.allocate(count * CublasLt.HEURISTIC_RESULT_BYTES, 16);
            for (int i = 0; i < count; i++) {
                MemorySegment r = results.asSlice(i * 96L, 96);
                for (int w = 0; w < 8; w++) r.setAtIndex(ValueLayout.JAVA_LONG, w, 1000L * i + w);
                r.set(ValueLayout.JAVA_LONG, 64, (i + 1) << 20);
                r.set(ValueLayout.JAVA_INT, 72, i == 1 ? 15 : 0);
                r.set(ValueLayout.JAVA_FLOAT, 76, 1.5f);
            }
            for (int i = 0; i < count; i++) {
                MemorySegment algo = CublasLt.algorithm(results, i);
                assertEquals(results.address() + i * 96L, algo.address());
                assertEquals(1000L * i + 7, algo.getAtIndex(ValueLayout.JAVA_LONG, 7));
                assertEquals((long) (i + 1) << 20, CublasLt.workspaceBytes(results, i));
                assertEquals(i == 1 ? 15 : 0, CublasLt.state(results, i));
            }
        }
    }
}
