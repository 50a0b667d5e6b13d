package dev.pricer.core.backend.cpu;

import dev.pricer.core.quant.BlockScales;
import dev.pricer.core.quant.Nf4;
import dev.pricer.core.quant.Nf4Weight;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * The two products a linear layer with a frozen NF4 weight needs: forward {@code y = x·Wᵀ} and backward
 * {@code dx = dy·W} (no {@code dW}: the base weight does not train). {@code W} stays packed and is decoded with
 * the Vector API inside the product, so no full dequantized copy of it ever exists:
 * <ul>
 *   <li>from {@value CpuMatmul#SMALL_M} rows of {@code x} on (training), and for the backward product from
 *       {@value #PACKED_BACKWARD_ROWS}, {@link CpuMatmul}'s packed kernel runs the product and the weight is
 *       decoded straight into the panels that kernel packs, a k-block at a time;</li>
 *   <li>with fewer rows, each task decodes four weight rows at a time into a small float tile and uses it
 *       against every row of {@code x};</li>
 *   <li>with one row (generation), each weight row is decoded into registers and multiplied there.</li>
 * </ul>
 */
public final class Nf4Matmul {

    /**
     * Decoding width: sixteen lanes where the machine has them (the whole 16-value codebook is then one vector,
     * and one permute looks codes up), else eight (the codebook is two vectors). Eight codes come from each
     * 32-bit word of packed weight.
     */
    private static final boolean WIDE = FloatVector.SPECIES_PREFERRED.length() >= 16;
    private static final VectorSpecies<Float> F = WIDE ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = WIDE ? IntVector.SPECIES_512 : IntVector.SPECIES_256;
    private static final int LANES = F.length();
    /** The products themselves run at the machine's full vector width. */
    private static final VectorSpecies<Float> P = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.nativeOrder());
    private static final ValueLayout.OfInt WORD = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final FloatVector CODES_LOW = FloatVector.fromArray(F, Arrays.copyOf(Nf4.codebook(), LANES), 0);
    /** The codebook's bit patterns, for the wide layout's lookup of sixteen codes in one vector. */
    private static final IntVector CODEBOOK_BITS = CODES_LOW.reinterpretAsInts();
    /** Codes 8..15 for the narrow layout's two-vector lookup. */
    private static final FloatVector CODES_HIGH = FloatVector.fromArray(F, Arrays.copyOfRange(Nf4.codebook(), 8, 8 + LANES), 0);
    /** Lane l holds the code of element l: byte l/2 of its word, high nibble first. */
    private static final IntVector NIBBLE_SHIFTS = IntVector.fromArray(I,
            Arrays.copyOf(new int[]{4, 0, 12, 8, 20, 16, 28, 24, 4, 0, 12, 8, 20, 16, 28, 24}, LANES), 0);
    /** In the wide layout, lanes 8..15 read the second word. */
    private static final VectorMask<Integer> SECOND_WORD = VectorMask.fromLong(I, 0xFF00L);

    /**
     * The backward product's panels are weight rows decoded in place, cheap enough to pay from this many rows of
     * dy; the forward one's lay each decoded row across a panel, which pays from {@value CpuMatmul#SMALL_M}.
     */
    private static final int PACKED_BACKWARD_ROWS = 8;
    /** Weight rows decoded together: four dot products share each load of x. */
    private static final int TILE_ROWS = 4;
    private static final int ROWS_PER_TASK = 64;
    private static final int WEIGHT_ROWS_PER_TASK = 16;
    private static final int COLUMNS_PER_TASK = 256;

    private Nf4Matmul() {
    }

    /** y[m×n] (+)= x[m×k] · Wᵀ, with W [n×k] in NF4. */
    public static void matmulABt(MemorySegment x, Nf4Weight w, MemorySegment y, int m, boolean accumulate) {
        long[] shape = checkedShape(w);
        int n = (int) shape[0], k = (int) shape[1];
        checkSize("x", x, m, k);
        checkSize("y", y, m, n);
        if (m >= CpuMatmul.SMALL_M) {
            CpuMatmul.packed(new CpuMatmul.Operand(x, k, false), new Panels(w, k, true), y, m, n, k, accumulate);
            return;
        }
        if (m == 1) {
            vectorTimesMatrix(x, w, y, n, k, accumulate);
            return;
        }
        int rowTasks = ceilDiv(m, ROWS_PER_TASK), weightTasks = ceilDiv(n, WEIGHT_ROWS_PER_TASK);
        IntStream.range(0, rowTasks * weightTasks).parallel().forEach(task -> {
            int i0 = task / weightTasks * ROWS_PER_TASK, i1 = Math.min(m, i0 + ROWS_PER_TASK);
            int j0 = task % weightTasks * WEIGHT_ROWS_PER_TASK, j1 = Math.min(n, j0 + WEIGHT_ROWS_PER_TASK);
            float[] tile = new float[TILE_ROWS * k];
            for (int j = j0; j < j1; j += TILE_ROWS) {
                int rows = Math.min(TILE_ROWS, j1 - j);
                for (int r = 0; r < TILE_ROWS; r++) {
                    if (r < rows) decode(w, k, j + r, 0, k, tile, r * k);
                    else Arrays.fill(tile, r * k, (r + 1) * k, 0f);
                }
                for (int i = i0; i < i1; i += 2) {
                    // An odd last row pairs with itself and writes once: one code path stays hot for every m.
                    int pair = Math.min(2, i1 - i);
                    long xOff = (long) i * k * Float.BYTES;
                    dot2x4(x, xOff, xOff + (pair - 1) * (long) k * Float.BYTES, tile, k, y, ((long) i * n + j) * Float.BYTES, n, rows, pair, accumulate);
                }
            }
        });
    }

    /**
     * Generation's case, one row of x: nothing to share a tile with, so each weight row is decoded straight into
     * registers and multiplied there, the block's absmax applied once per block.
     */
    private static void vectorTimesMatrix(MemorySegment x, Nf4Weight w, MemorySegment y, int n, int k, boolean accumulate) {
        IntStream.range(0, ceilDiv(n, WEIGHT_ROWS_PER_TASK)).parallel().forEach(task -> {
            float[] rowScales = new float[k / w.blockSize() + 2];
            for (int j = task * WEIGHT_ROWS_PER_TASK, end = Math.min(n, j + WEIGHT_ROWS_PER_TASK); j < end; j++) {
                float dot = decodeDot(w, k, j, x, rowScales);
                long at = (long) j * Float.BYTES;
                y.set(FLOAT, at, accumulate ? y.get(FLOAT, at) + dot : dot);
            }
        });
    }

    /**
     * x · W[row], decoding as {@link #decode} does; the row's block scales are taken all at once into
     * {@code rowScales} (at least k / blockSize + 2 long), as divisions per block would cost as much as decoding.
     */
    private static float decodeDot(Nf4Weight w, int k, int row, MemorySegment x, float[] rowScales) {
        long first = (long) row * k;
        int blockSize = w.blockSize();
        int firstBlock = (int) (first / blockSize);
        w.scales().scales(firstBlock, (int) ((first + k - 1) / blockSize) - firstBlock + 1, rowScales);
        MemorySegment packed = w.packed();
        FloatVector acc = FloatVector.zero(F);
        float tail = 0f;
        int c = 0;
        for (int block = firstBlock; c < k; block++) {
            float scale = rowScales[block - firstBlock];
            int end = (int) Math.min(k, (long) (block + 1) * blockSize - first);
            FloatVector blockSum = FloatVector.zero(F);
            if (((first + c) & (LANES - 1)) == 0) {
                for (int bound = c + ((end - c) & -LANES); c < bound; c += LANES) {
                    FloatVector xv = FloatVector.fromMemorySegment(F, x, (long) c * Float.BYTES, ByteOrder.nativeOrder());
                    blockSum = xv.fma(codes(packed, (first + c) >>> 1), blockSum);
                }
            }
            acc = blockSum.fma(FloatVector.broadcast(F, scale), acc);
            for (; c < end; c++) tail += x.get(FLOAT, (long) c * Float.BYTES) * Nf4.value(w.code(first + c)) * scale;
        }
        return Vec.sum(acc) + tail;
    }

    /** The codebook values of the {@link #LANES} codes packed from byte {@code offset} on, in element order. */
    private static FloatVector codes(MemorySegment packed, long offset) {
        IntVector words = IntVector.broadcast(I, packed.get(WORD, offset));
        if (WIDE) words = words.blend(packed.get(WORD, offset + Integer.BYTES), SECOND_WORD);
        IntVector codes = words.lanewise(VectorOperators.LSHR, NIBBLE_SHIFTS).lanewise(VectorOperators.AND, 0xF);
        if (WIDE) return codes.selectFrom(CODEBOOK_BITS).reinterpretAsFloats();
        return CODES_LOW.rearrange(codes.toShuffle().cast(F), CODES_HIGH);
    }

    /** dx[m×k] (+)= dy[m×n] · W, with W [n×k] in NF4. */
    public static void matmulAB(MemorySegment dy, Nf4Weight w, MemorySegment dx, int m, boolean accumulate) {
        long[] shape = checkedShape(w);
        int n = (int) shape[0], k = (int) shape[1];
        checkSize("dy", dy, m, n);
        checkSize("dx", dx, m, k);
        if (m >= PACKED_BACKWARD_ROWS) {
            CpuMatmul.packed(new CpuMatmul.Operand(dy, n, false), new Panels(w, k, false), dx, m, k, n, accumulate);
            return;
        }
        int rowTasks = ceilDiv(m, ROWS_PER_TASK), columnTasks = ceilDiv(k, COLUMNS_PER_TASK);
        IntStream.range(0, rowTasks * columnTasks).parallel().forEach(task -> {
            int i0 = task / columnTasks * ROWS_PER_TASK, i1 = Math.min(m, i0 + ROWS_PER_TASK);
            int c0 = task % columnTasks * COLUMNS_PER_TASK, width = Math.min(k, c0 + COLUMNS_PER_TASK) - c0;
            if (!accumulate) {
                for (int i = i0; i < i1; i++) dx.asSlice(((long) i * k + c0) * Float.BYTES, (long) width * Float.BYTES).fill((byte) 0);
            }
            float[] tile = new float[TILE_ROWS * width];
            float[] a = new float[TILE_ROWS];
            for (int j = 0; j < n; j += TILE_ROWS) {
                int rows = Math.min(TILE_ROWS, n - j);
                for (int r = 0; r < rows; r++) decode(w, k, j + r, c0, width, tile, r * width);
                for (int i = i0; i < i1; i++) {
                    long dyRow = (long) i * n * Float.BYTES;
                    // Rows past the weight's end keep a stale tile but get a zero coefficient.
                    for (int r = 0; r < TILE_ROWS; r++) a[r] = r < rows ? dy.get(FLOAT, dyRow + (long) (j + r) * Float.BYTES) : 0f;
                    axpy4(a, tile, width, dx, ((long) i * k + c0) * Float.BYTES);
                }
            }
        });
    }

    /**
     * W [rows × k] as {@link CpuMatmul}'s packed right operand: Wᵀ for the forward product ({@code transposed}: a
     * panel's columns are weight rows, each decoded along the k-block and laid across the panel), W itself for
     * the backward one (a panel's k-rows are weight rows, each decoded in place).
     */
    private record Panels(Nf4Weight w, int k, boolean transposed) implements CpuMatmul.PackedRight {
        @Override
        public void pack(float[] dst, int p0, int depth, int firstColPanel, int endColPanel, int n) {
            int width = CpuMatmul.NR;
            float[] row = transposed ? new float[depth] : null;
            for (int panel = firstColPanel; panel < endColPanel; panel++) {
                int col0 = panel * width, cols = Math.min(width, n - col0), base = (panel - firstColPanel) * depth * width;
                if (transposed) {
                    for (int j = 0; j < width; j++) {
                        if (j < cols) decode(w, k, col0 + j, p0, depth, row, 0);
                        for (int p = 0; p < depth; p++) dst[base + p * width + j] = j < cols ? row[p] : 0f;
                    }
                } else {
                    for (int p = 0; p < depth; p++) {
                        int at = base + p * width;
                        decode(w, k, p0 + p, col0, cols, dst, at);
                        Arrays.fill(dst, at + cols, at + width, 0f);
                    }
                }
            }
        }

        @Override
        public MemorySegment segment() {
            return w.packed();
        }
    }

    /**
     * Decodes W[row, col .. col+len) into tile[at ..], a block at a time: a vector of codes at once where the
     * words are whole, one by one at ragged edges.
     */
    static void decode(Nf4Weight w, int k, int row, int col, int len, float[] tile, int at) {
        long first = (long) row * k + col;
        int blockSize = w.blockSize();
        BlockScales scales = w.scales();
        MemorySegment packed = w.packed();
        int c = 0;
        for (int block = (int) (first / blockSize); c < len; block++) {
            float scale = scales.scale(block);
            int end = (int) Math.min(len, (long) (block + 1) * blockSize - first);
            if (((first + c) & (LANES - 1)) == 0) {
                for (int bound = c + ((end - c) & -LANES); c < bound; c += LANES) {
                    codes(packed, (first + c) >>> 1).mul(scale).intoArray(tile, at + c);
                }
            }
            for (; c < end; c++) tile[at + c] = Nf4.value(w.code(first + c)) * scale;
        }
    }

    /**
     * y[out + row·n + r] (+)= x_row·tile[r] for two rows of x (at {@code xOff}, {@code xOff1}) and four tile rows:
     * eight accumulators, each x load used four times and each tile load twice. Writes the first {@code xRows}
     * rows and {@code rows} columns.
     */
    private static void dot2x4(MemorySegment x, long xOff, long xOff1, float[] tile, int k, MemorySegment y, long out, int n,
                               int rows, int xRows, boolean accumulate) {
        FloatVector s00 = FloatVector.zero(P), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        int c = 0;
        for (int bound = P.loopBound(k); c < bound; c += P.length()) {
            FloatVector x0 = FloatVector.fromMemorySegment(P, x, xOff + (long) c * Float.BYTES, ByteOrder.nativeOrder());
            FloatVector x1 = FloatVector.fromMemorySegment(P, x, xOff1 + (long) c * Float.BYTES, ByteOrder.nativeOrder());
            FloatVector t = FloatVector.fromArray(P, tile, c);
            s00 = x0.fma(t, s00);
            s10 = x1.fma(t, s10);
            t = FloatVector.fromArray(P, tile, k + c);
            s01 = x0.fma(t, s01);
            s11 = x1.fma(t, s11);
            t = FloatVector.fromArray(P, tile, 2 * k + c);
            s02 = x0.fma(t, s02);
            s12 = x1.fma(t, s12);
            t = FloatVector.fromArray(P, tile, 3 * k + c);
            s03 = x0.fma(t, s03);
            s13 = x1.fma(t, s13);
        }
        float[][] sums = {
                {Vec.sum(s00), Vec.sum(s01), Vec.sum(s02), Vec.sum(s03)},
                {Vec.sum(s10), Vec.sum(s11), Vec.sum(s12), Vec.sum(s13)}};
        for (int row = 0; row < xRows; row++) {
            long xr = row == 0 ? xOff : xOff1;
            for (int cc = c; cc < k; cc++) {
                float xc = x.get(FLOAT, xr + (long) cc * Float.BYTES);
                for (int r = 0; r < TILE_ROWS; r++) sums[row][r] += xc * tile[r * k + cc];
            }
            for (int r = 0; r < rows; r++) {
                long at = out + ((long) row * n + r) * Float.BYTES;
                y.set(FLOAT, at, accumulate ? y.get(FLOAT, at) + sums[row][r] : sums[row][r]);
            }
        }
    }

    /** dx[off ..] += Σ_r a[r]·tile[r], over {@code width} columns. */
    private static void axpy4(float[] a, float[] tile, int width, MemorySegment dx, long off) {
        FloatVector a0 = FloatVector.broadcast(P, a[0]), a1 = FloatVector.broadcast(P, a[1]);
        FloatVector a2 = FloatVector.broadcast(P, a[2]), a3 = FloatVector.broadcast(P, a[3]);
        int c = 0;
        for (int bound = P.loopBound(width); c < bound; c += P.length()) {
            long at = off + (long) c * Float.BYTES;
            FloatVector acc = FloatVector.fromMemorySegment(P, dx, at, ByteOrder.nativeOrder());
            acc = a0.fma(FloatVector.fromArray(P, tile, c), acc);
            acc = a1.fma(FloatVector.fromArray(P, tile, width + c), acc);
            acc = a2.fma(FloatVector.fromArray(P, tile, 2 * width + c), acc);
            acc = a3.fma(FloatVector.fromArray(P, tile, 3 * width + c), acc);
            acc.intoMemorySegment(dx, at, ByteOrder.nativeOrder());
        }
        for (; c < width; c++) {
            long at = off + (long) c * Float.BYTES;
            float sum = dx.get(FLOAT, at);
            for (int r = 0; r < TILE_ROWS; r++) sum += a[r] * tile[r * width + c];
            dx.set(FLOAT, at, sum);
        }
    }

    private static long[] checkedShape(Nf4Weight w) {
        long[] shape = w.shape();
        if (shape.length != 2 || shape[0] > Integer.MAX_VALUE || shape[1] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("NF4 matmul needs a 2-D weight, got shape " + Arrays.toString(shape));
        }
        return shape;
    }

    private static void checkSize(String name, MemorySegment s, int rows, int cols) {
        if (s.byteSize() < (long) rows * cols * Float.BYTES) {
            throw new IllegalArgumentException(name + " holds " + s.byteSize() + " bytes, less than " + rows + "×" + cols + " float32");
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
