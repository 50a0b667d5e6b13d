package dev.pricer.core.backend.cpu;

import dev.pricer.core.quant.Nf4Quantizer;
import dev.pricer.core.quant.Nf4Weight;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The products with decoding inside against dequantize-then-f32-matmul with {@link CpuMatmul}. */
class Nf4MatmulTest {

    @ParameterizedTest(name = "m={0} n={1} k={2} double={3}")
    @CsvSource({
            "3, 37, 160, true",   // blocks straddle rows (160 = 2.5 blocks), a partial tile of weight rows
            "70, 20, 64, false",  // the packed kernel (32 rows or more), one k-block, a ragged panel
            "40, 70, 600, true",  // the packed kernel over three k-blocks, ragged panels both ways, blocks across k-blocks
            "12, 40, 200, true",  // the packed kernel backward only (8 to 31 rows), the tile path forward
            "1, 16, 256, true",   // generation: one row, decoded straight into registers
            "1, 9, 160, false",   // one row, blocks straddling rows
            "1, 5, 30, true",     // one row, ragged rows
            "5, 9, 30, false",    // rows not a multiple of eight elements: the scalar decode
            "66, 6, 300, true",   // backward column tasks of 256 and a ragged tail
    })
    void forwardAndBackwardMatchDequantizedF32(int m, int n, int k, boolean doubleQuant) {
        Random random = new Random(m * 1000L + n * 10L + k);
        float[] weight = gaussian(random, n * k, 0.05f);
        Nf4Weight w = Nf4Quantizer.quantize(MemorySegment.ofArray(weight), new long[]{n, k}, "float32", doubleQuant);
        MemorySegment dense = MemorySegment.ofArray(w.dequantize());
        MemorySegment x = MemorySegment.ofArray(gaussian(random, m * k, 1f));
        MemorySegment dy = MemorySegment.ofArray(gaussian(random, m * n, 1f));

        float[] y = gaussian(random, m * n, 1f), yRef = y.clone();
        Nf4Matmul.matmulABt(x, w, MemorySegment.ofArray(y), m, true);
        CpuMatmul.matmulABt(x, dense, MemorySegment.ofArray(yRef), m, n, k, true);
        assertClose(yRef, y, "y accumulated");
        Nf4Matmul.matmulABt(x, w, MemorySegment.ofArray(y), m, false);
        CpuMatmul.matmulABt(x, dense, MemorySegment.ofArray(yRef), m, n, k, false);
        assertClose(yRef, y, "y");

        float[] dx = gaussian(random, m * k, 1f), dxRef = dx.clone();
        Nf4Matmul.matmulAB(dy, w, MemorySegment.ofArray(dx), m, true);
        CpuMatmul.matmulAB(dy, dense, MemorySegment.ofArray(dxRef), m, k, n, true);
        assertClose(dxRef, dx, "dx accumulated");
        Nf4Matmul.matmulAB(dy, w, MemorySegment.ofArray(dx), m, false);
        CpuMatmul.matmulAB(dy, dense, MemorySegment.ofArray(dxRef), m, k, n, false);
        assertClose(dxRef, dx, "dx");
    }

    @Test
    void decodeMatchesDequantizeBitForBit() {
        int n = 7, k = 200;
        Nf4Weight w = Nf4Quantizer.quantize(MemorySegment.ofArray(gaussian(new Random(3), n * k, 0.1f)), new long[]{n, k}, "bfloat16", true);
        float[] expected = w.dequantize();
        float[] row = new float[k];
        for (int j = 0; j < n; j++) {
            Nf4Matmul.decode(w, k, j, 0, k, row, 0);
            for (int c = 0; c < k; c++) assertEquals(Float.floatToIntBits(expected[j * k + c]), Float.floatToIntBits(row[c]), "row " + j + " col " + c);
        }
    }

    @Test
    void rejectsWrongShapesAndShortBuffers() {
        Nf4Weight flat = Nf4Quantizer.quantize(MemorySegment.ofArray(new float[64]), new long[]{64}, "float32", false);
        assertThrows(IllegalArgumentException.class, () -> Nf4Matmul.matmulABt(MemorySegment.ofArray(new float[64]), flat, MemorySegment.ofArray(new float[1]), 1, false));
        Nf4Weight w = Nf4Quantizer.quantize(MemorySegment.ofArray(new float[128]), new long[]{2, 64}, "float32", false);
        var e = assertThrows(IllegalArgumentException.class, () -> Nf4Matmul.matmulABt(MemorySegment.ofArray(new float[63]), w, MemorySegment.ofArray(new float[2]), 1, false));
        assertEquals("x holds 252 bytes, less than 1×64 float32", e.getMessage());
    }

    private static float[] gaussian(Random random, int n, float scale) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (float) random.nextGaussian() * scale;
        return out;
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-4f * (1 + Math.abs(expected[i])), what + " element " + i);
        }
    }
}
