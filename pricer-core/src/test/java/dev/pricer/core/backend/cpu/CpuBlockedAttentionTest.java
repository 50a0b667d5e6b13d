package dev.pricer.core.backend.cpu;

import dev.pricer.core.backend.AttentionShape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The blocked attention computes what the per-query reference {@link CpuAttention} computes, output by output. */
class CpuBlockedAttentionTest {

    static Stream<Arguments> shapes() {
        return Stream.of(
                // training: keyStride == queryLen, right padding, GQA groups of 2 and 4
                Arguments.of(new AttentionShape(2, 13, 13, 0, 4, 2, 16), new int[]{13, 9}),
                Arguments.of(new AttentionShape(3, 40, 40, 0, 8, 2, 64), new int[]{40, 1, 27}),
                Arguments.of(new AttentionShape(1, 7, 7, 0, 2, 2, 8), new int[]{0}),
                // generation with a KV cache: queries after pastLen, capacity beyond
                Arguments.of(new AttentionShape(2, 3, 20, 5, 4, 1, 16), new int[]{8, 7}));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void matchesTheReferenceForwardAndBackward(AttentionShape s, int[] lengths) {
        Random random = new Random(s.hashCode());
        long qn = (long) s.batch() * s.queryLen() * s.numHeads() * s.headDim();
        long kn = (long) s.batch() * s.keyStride() * s.numKvHeads() * s.headDim();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment q = randoms(arena, random, qn), k = randoms(arena, random, kn), v = randoms(arena, random, kn);
            MemorySegment dout = randoms(arena, random, qn);
            MemorySegment len = arena.allocate(ValueLayout.JAVA_INT, lengths.length);
            for (int b = 0; b < lengths.length; b++) len.setAtIndex(ValueLayout.JAVA_INT, b, lengths[b]);

            MemorySegment outRef = garbage(arena, qn), probsRef = garbage(arena, s.probabilityCount());
            MemorySegment out = garbage(arena, qn), probs = garbage(arena, s.probabilityCount());
            CpuAttention.forward(q, k, v, len, outRef, probsRef, s);
            CpuBlockedAttention.forward(q, k, v, len, out, probs, s);
            assertClose("out", outRef, out, qn);
            assertClose("probs", probsRef, probs, s.probabilityCount());

            MemorySegment dqRef = garbage(arena, qn), dkRef = garbage(arena, kn), dvRef = garbage(arena, kn);
            MemorySegment dq = garbage(arena, qn), dk = garbage(arena, kn), dv = garbage(arena, kn);
            CpuAttention.backward(dout, q, k, v, probsRef, len, dqRef, dkRef, dvRef, s);
            CpuBlockedAttention.backward(dout, q, k, v, probsRef, len, dq, dk, dv, s);
            assertClose("dq", dqRef, dq, qn);
            assertClose("dk", dkRef, dk, kn);
            assertClose("dv", dvRef, dv, kn);
        }
    }

    private static void assertClose(String what, MemorySegment want, MemorySegment got, long n) {
        for (long i = 0; i < n; i++) {
            float w = want.getAtIndex(ValueLayout.JAVA_FLOAT, i), g = got.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            assertEquals(w, g, 1e-5f + 1e-4f * Math.abs(w), what + "[" + i + "]");
        }
    }

    private static MemorySegment randoms(Arena arena, Random random, long n) {
        MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, n);
        for (long i = 0; i < n; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian());
        return s;
    }

    /** Outputs start full of NaN, so an element either side forgets to write shows up. */
    private static MemorySegment garbage(Arena arena, long n) {
        MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, n);
        for (long i = 0; i < n; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, Float.NaN);
        return s;
    }
}
