package dev.pricer.core.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The three float32 matrix products a linear layer needs, on row-major matrices in memory segments.
 * Forward {@code y = x·Wᵀ} is {@link #matmulABt}; backward {@code dx = dy·W} is {@link #matmulAB};
 * the weight gradient {@code dW = dyᵀ·x} is {@link #matmulAtB}. With {@code accumulate} the product is
 * added to {@code c} instead of replacing it, which gradient accumulation and residual paths rely on.
 *
 * <p>All three are one blocked GEMM in the style of GotoBLAS/BLIS: the left operand is packed once into
 * {@value #MR}-row panels laid out k-major, so a micro-kernel step broadcasts {@value #MR} consecutive floats;
 * the right operand is packed per k-block into panels of two vectors' width, so each step loads two
 * consecutive vectors. The transposes of the three variants are absorbed by the packing, and the micro-kernel
 * keeps an {@value #MR}×(2·lanes) tile of C in registers over a whole k-block. A C of fewer than
 * {@value #SMALL_M} rows (the head at label positions, generation) is computed from the operands in place,
 * since packing a whole weight would cost more than the product.
 *
 * <p>The summation order of every element of C depends only on the shapes, never on the thread count.
 */
public final class CpuMatmul {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(NATIVE);

    /** Rows of C in a micro-tile. */
    static final int MR = 8;
    /** Columns of C in a micro-tile: two vectors. */
    static final int NR = 2 * L;
    /** Depth of a k-block: an NR-wide panel of it (32 KiB with 16 lanes) stays in L1 while A streams from L2. */
    private static final int KC = 256;
    /** Rows of A per L2 block, a multiple of MR. */
    private static final int MC = 24 * MR;
    /** Fewer rows of C than this are computed without packing B, which would cost more than it saves. */
    static final int SMALL_M = 32;
    /** Widest column range one task packs, in NR panels, so its packed block of B stays in L2. */
    private static final int MAX_PANELS_PER_TASK = 8;

    private static final ThreadLocal<float[]> PACKED_A = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> PACKED_B = ThreadLocal.withInitial(() -> new float[KC * NR * MAX_PANELS_PER_TASK]);
    /** Where a ragged tile at the bottom or right edge of C is computed whole before its valid part is added. */
    private static final ThreadLocal<MemorySegment> EDGE_TILE = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate((long) MR * NR * Float.BYTES, 64));

    private CpuMatmul() {
    }

    /** c[m×n] (+)= a[m×k] · b[n×k]ᵀ */
    public static void matmulABt(MemorySegment a, MemorySegment b, MemorySegment c, int m, int n, int k, boolean accumulate) {
        checkShapes("matmulABt", a, b, c, m, n, k);
        gemm(new Operand(a, k, false), new Operand(b, k, true), c, m, n, k, accumulate);
    }

    /** c[m×n] (+)= a[m×k] · b[k×n] */
    public static void matmulAB(MemorySegment a, MemorySegment b, MemorySegment c, int m, int n, int k, boolean accumulate) {
        checkShapes("matmulAB", a, b, c, m, n, k);
        gemm(new Operand(a, k, false), new Operand(b, n, false), c, m, n, k, accumulate);
    }

    /**
     * c[m×n] = a[m×k] · b[n×k]ᵀ through the packed kernel whatever m, which sums each element along k in order, so
     * that c is bit for bit the transpose of {@code b·aᵀ} as this kernel computes it: LoRA's down-projection stored
     * transposed ({@code uᵀ = A·xᵀ}, few rows, many columns) gives the floats of {@code x·Aᵀ}. (With k past one
     * depth block of {@value #KC}, edge tiles add their blocks' sums in another grouping.)
     */
    public static void matmulABtPacked(MemorySegment a, MemorySegment b, MemorySegment c, int m, int n, int k) {
        checkShapes("matmulABtPacked", a, b, c, m, n, k);
        gemm(new Operand(a, k, false), new Operand(b, k, true), c, m, n, k, false, false);
    }

    /** c[m×n] (+)= a[k×m]ᵀ · b[k×n] */
    public static void matmulAtB(MemorySegment a, MemorySegment b, MemorySegment c, int m, int n, int k, boolean accumulate) {
        checkShapes("matmulAtB", a, b, c, m, n, k);
        gemm(new Operand(a, m, true), new Operand(b, n, false), c, m, n, k, accumulate);
    }

    /** c[m×n] (+)= a[k×m]ᵀ · b[n×k]ᵀ */
    public static void matmulAtBt(MemorySegment a, MemorySegment b, MemorySegment c, int m, int n, int k, boolean accumulate) {
        checkShapes("matmulAtBt", a, b, c, m, n, k);
        gemm(new Operand(a, m, true), new Operand(b, k, true), c, m, n, k, accumulate);
    }

    /**
     * The right operand B [k×n] as the packed kernel reads it: a k-block at a time, in column panels of
     * {@value #NR} floats. A float32 matrix copies its values in ({@link Operand}); an NF4 weight decodes them
     * ({@code Nf4Matmul}), so the packed panels are the only floats of it that ever exist.
     */
    interface PackedRight {
        /** Column panels [firstColPanel, endColPanel) of k-rows [p0, p0+depth), each depth steps of NR floats, zero past column n. */
        void pack(float[] dst, int p0, int depth, int firstColPanel, int endColPanel, int n);

        /** The memory the packing reads, for {@link CpuThreads#run}'s check of confined arenas. */
        MemorySegment segment();
    }

    /**
     * A matrix operand in memory. Element (r, s) of the operand sits at float index {@code r·stride + s},
     * or at {@code s·stride + r} when the operand is the transpose of what is stored.
     */
    record Operand(MemorySegment segment, int stride, boolean transposed) implements PackedRight {
        float get(int r, int s) {
            long index = transposed ? (long) s * stride + r : (long) r * stride + s;
            return segment.get(FLOAT, index * Float.BYTES);
        }

        @Override
        public void pack(float[] dst, int p0, int depth, int firstColPanel, int endColPanel, int n) {
            for (int panel = firstColPanel; panel < endColPanel; panel++) {
                int col0 = panel * NR;
                int cols = Math.min(NR, n - col0);
                int base = (panel - firstColPanel) * depth * NR;
                if (transposed) {
                    for (int j = 0; j < NR; j++) {
                        if (j < cols) {
                            long src = ((long) (col0 + j) * stride + p0) * Float.BYTES;
                            for (int p = 0; p < depth; p++) dst[base + p * NR + j] = segment.get(FLOAT, src + (long) p * Float.BYTES);
                        } else {
                            for (int p = 0; p < depth; p++) dst[base + p * NR + j] = 0f;
                        }
                    }
                } else {
                    for (int p = 0; p < depth; p++) {
                        int at = base + p * NR;
                        MemorySegment.copy(segment, FLOAT, ((long) (p0 + p) * stride + col0) * Float.BYTES, dst, at, cols);
                        for (int j = cols; j < NR; j++) dst[at + j] = 0f;
                    }
                }
            }
        }
    }

    private static void checkShapes(String op, MemorySegment a, MemorySegment b, MemorySegment c, int m, int n, int k) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(op + ": negative shape m=" + m + " n=" + n + " k=" + k);
        }
        requireFloats(op, "a", a, (long) m * k, m, n, k);
        requireFloats(op, "b", b, (long) n * k, m, n, k);
        requireFloats(op, "c", c, (long) m * n, m, n, k);
    }

    private static void requireFloats(String op, String name, MemorySegment s, long floats, int m, int n, int k) {
        if (s.byteSize() < floats * Float.BYTES) {
            throw new IllegalArgumentException(op + ": segment " + name + " holds " + s.byteSize() + " bytes but m=" + m
                    + " n=" + n + " k=" + k + " needs " + floats * Float.BYTES);
        }
    }

    /** Few rows of C take the in-place kernels, which read A or B along its rows; with both transposed (LoRA's uᵀ) packing serves any m. */
    private static void gemm(Operand a, Operand b, MemorySegment c, int m, int n, int k, boolean accumulate) {
        gemm(a, b, c, m, n, k, accumulate, m < SMALL_M && !(a.transposed() && b.transposed()));
    }

    private static void gemm(Operand a, Operand b, MemorySegment c, int m, int n, int k, boolean accumulate, boolean inPlace) {
        if (inPlace && m > 0 && n > 0 && k > 0) {
            unpacked(a, b, c, m, n, k, accumulate);
            return;
        }
        packed(a, b, c, m, n, k, accumulate);
    }

    /** c[m×n] (+)= a · b through the packed kernel, each task packing b's panels for its own columns as it goes. */
    static void packed(Operand a, PackedRight b, MemorySegment c, int m, int n, int k, boolean accumulate) {
        if (m == 0 || n == 0) return;
        if (k == 0) {
            if (!accumulate) c.asSlice(0, (long) m * n * Float.BYTES).fill((byte) 0);
            return;
        }
        int rowPanels = ceilDiv(m, MR);
        float[] packedA = packedA((long) rowPanels * MR * k);
        int packTasks = Math.min(rowPanels, 4 * CpuThreads.count());
        int panelsPerPackTask = ceilDiv(rowPanels, packTasks);
        CpuThreads.run(ceilDiv(rowPanels, panelsPerPackTask), t -> {
            int end = Math.min(rowPanels, (t + 1) * panelsPerPackTask);
            for (int panel = t * panelsPerPackTask; panel < end; panel++) packAPanel(a, packedA, panel, m, k);
        }, a.segment());

        int colPanels = ceilDiv(n, NR);
        int target = CpuThreads.count() == 1 ? 1 : 4 * CpuThreads.count();
        int colPanelsPerTask = Math.clamp(ceilDiv(colPanels, target), 1, MAX_PANELS_PER_TASK);
        int colTasks = ceilDiv(colPanels, colPanelsPerTask);
        int rowPanelsPerTask = ceilDiv(rowPanels, Math.clamp(ceilDiv(target, colTasks), 1, rowPanels));
        int rowTasks = ceilDiv(rowPanels, rowPanelsPerTask);
        CpuThreads.run(rowTasks * colTasks, t -> {
            int firstRowPanel = (t / colTasks) * rowPanelsPerTask;
            int firstColPanel = (t % colTasks) * colPanelsPerTask;
            computeBlock(packedA, b, c, m, n, k, accumulate,
                    firstRowPanel, Math.min(rowPanels, firstRowPanel + rowPanelsPerTask),
                    firstColPanel, Math.min(colPanels, firstColPanel + colPanelsPerTask));
        }, b.segment(), c);
    }

    private static float[] packedA(long floats) {
        if (floats > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("matmul: left operand too large to pack: " + floats + " floats");
        float[] buffer = PACKED_A.get();
        if (buffer.length < floats) {
            buffer = new float[(int) floats];
            PACKED_A.set(buffer);
        }
        return buffer;
    }

    /** Panel {@code panel} holds rows [panel·MR, panel·MR+MR) of A as k steps of MR floats, zero past row m. */
    private static void packAPanel(Operand a, float[] dst, int panel, int m, int k) {
        int row0 = panel * MR;
        int rows = Math.min(MR, m - row0);
        int base = panel * MR * k;
        if (a.transposed()) {
            for (int p = 0; p < k; p++) {
                int at = base + p * MR;
                MemorySegment.copy(a.segment(), FLOAT, ((long) p * a.stride() + row0) * Float.BYTES, dst, at, rows);
                for (int r = rows; r < MR; r++) dst[at + r] = 0f;
            }
        } else {
            for (int r = 0; r < MR; r++) {
                if (r < rows) {
                    long src = (long) (row0 + r) * a.stride() * Float.BYTES;
                    for (int p = 0; p < k; p++) dst[base + p * MR + r] = a.segment().get(FLOAT, src + (long) p * Float.BYTES);
                } else {
                    for (int p = 0; p < k; p++) dst[base + p * MR + r] = 0f;
                }
            }
        }
    }

    private static void computeBlock(float[] packedA, PackedRight b, MemorySegment c, int m, int n, int k, boolean accumulate,
                                     int firstRowPanel, int endRowPanel, int firstColPanel, int endColPanel) {
        float[] packedB = PACKED_B.get();
        MemorySegment edgeTile = EDGE_TILE.get();
        long cRowBytes = (long) n * Float.BYTES;
        for (int p0 = 0; p0 < k; p0 += KC) {
            int depth = Math.min(KC, k - p0);
            boolean load = accumulate || p0 > 0;
            b.pack(packedB, p0, depth, firstColPanel, endColPanel, n);
            for (int rowBlock = firstRowPanel; rowBlock < endRowPanel; rowBlock += MC / MR) {
                int rowBlockEnd = Math.min(endRowPanel, rowBlock + MC / MR);
                for (int colPanel = firstColPanel; colPanel < endColPanel; colPanel++) {
                    int col0 = colPanel * NR;
                    int cols = Math.min(NR, n - col0);
                    int bOffset = (colPanel - firstColPanel) * depth * NR;
                    for (int rowPanel = rowBlock; rowPanel < rowBlockEnd; rowPanel++) {
                        int row0 = rowPanel * MR;
                        int rows = Math.min(MR, m - row0);
                        int aOffset = rowPanel * MR * k + p0 * MR;
                        long cOffset = ((long) row0 * n + col0) * Float.BYTES;
                        if (rows == MR && cols == NR) {
                            if (!load) clearTile(c, cOffset, cRowBytes);
                            microKernel(packedA, aOffset, packedB, bOffset, depth, c, cOffset, cRowBytes);
                        } else {
                            clearTile(edgeTile, 0, NR * Float.BYTES);
                            microKernel(packedA, aOffset, packedB, bOffset, depth, edgeTile, 0, NR * Float.BYTES);
                            addEdgeTile(edgeTile, c, cOffset, cRowBytes, rows, cols, load);
                        }
                    }
                }
            }
        }
    }

    private static void clearTile(MemorySegment c, long offset, long rowBytes) {
        for (int r = 0; r < MR; r++) c.asSlice(offset + r * rowBytes, NR * Float.BYTES).fill((byte) 0);
    }

    /** Adds (or with {@code load} false, copies) the top-left rows × cols of a full tile into C. */
    private static void addEdgeTile(MemorySegment tile, MemorySegment c, long cOffset, long cRowBytes, int rows, int cols, boolean load) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                long at = cOffset + r * cRowBytes + (long) j * Float.BYTES;
                float v = tile.get(FLOAT, ((long) r * NR + j) * Float.BYTES);
                c.set(FLOAT, at, load ? c.get(FLOAT, at) + v : v);
            }
        }
    }

    /**
     * The full C tile [MR × NR] at {@code cOffset} += packed A panel · packed B panel over {@code depth} steps.
     * The sixteen accumulators are named locals so that they live in registers for the whole loop.
     */
    private static void microKernel(float[] a, int aOffset, float[] b, int bOffset, int depth,
                                    MemorySegment c, long cOffset, long cRowBytes) {
        long o0 = cOffset, o1 = o0 + cRowBytes, o2 = o1 + cRowBytes, o3 = o2 + cRowBytes;
        long o4 = o3 + cRowBytes, o5 = o4 + cRowBytes, o6 = o5 + cRowBytes, o7 = o6 + cRowBytes;
        long h = (long) L * Float.BYTES;
        FloatVector c00 = FloatVector.fromMemorySegment(F, c, o0, NATIVE), c01 = FloatVector.fromMemorySegment(F, c, o0 + h, NATIVE);
        FloatVector c10 = FloatVector.fromMemorySegment(F, c, o1, NATIVE), c11 = FloatVector.fromMemorySegment(F, c, o1 + h, NATIVE);
        FloatVector c20 = FloatVector.fromMemorySegment(F, c, o2, NATIVE), c21 = FloatVector.fromMemorySegment(F, c, o2 + h, NATIVE);
        FloatVector c30 = FloatVector.fromMemorySegment(F, c, o3, NATIVE), c31 = FloatVector.fromMemorySegment(F, c, o3 + h, NATIVE);
        FloatVector c40 = FloatVector.fromMemorySegment(F, c, o4, NATIVE), c41 = FloatVector.fromMemorySegment(F, c, o4 + h, NATIVE);
        FloatVector c50 = FloatVector.fromMemorySegment(F, c, o5, NATIVE), c51 = FloatVector.fromMemorySegment(F, c, o5 + h, NATIVE);
        FloatVector c60 = FloatVector.fromMemorySegment(F, c, o6, NATIVE), c61 = FloatVector.fromMemorySegment(F, c, o6 + h, NATIVE);
        FloatVector c70 = FloatVector.fromMemorySegment(F, c, o7, NATIVE), c71 = FloatVector.fromMemorySegment(F, c, o7 + h, NATIVE);
        for (int p = 0; p < depth; p++) {
            int ap = aOffset + p * MR;
            int bp = bOffset + p * NR;
            FloatVector b0 = FloatVector.fromArray(F, b, bp);
            FloatVector b1 = FloatVector.fromArray(F, b, bp + L);
            FloatVector x;
            x = FloatVector.broadcast(F, a[ap]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(F, a[ap + 1]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(F, a[ap + 2]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(F, a[ap + 3]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(F, a[ap + 4]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(F, a[ap + 5]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51);
            x = FloatVector.broadcast(F, a[ap + 6]);
            c60 = b0.fma(x, c60); c61 = b1.fma(x, c61);
            x = FloatVector.broadcast(F, a[ap + 7]);
            c70 = b0.fma(x, c70); c71 = b1.fma(x, c71);
        }
        c00.intoMemorySegment(c, o0, NATIVE); c01.intoMemorySegment(c, o0 + h, NATIVE);
        c10.intoMemorySegment(c, o1, NATIVE); c11.intoMemorySegment(c, o1 + h, NATIVE);
        c20.intoMemorySegment(c, o2, NATIVE); c21.intoMemorySegment(c, o2 + h, NATIVE);
        c30.intoMemorySegment(c, o3, NATIVE); c31.intoMemorySegment(c, o3 + h, NATIVE);
        c40.intoMemorySegment(c, o4, NATIVE); c41.intoMemorySegment(c, o4 + h, NATIVE);
        c50.intoMemorySegment(c, o5, NATIVE); c51.intoMemorySegment(c, o5 + h, NATIVE);
        c60.intoMemorySegment(c, o6, NATIVE); c61.intoMemorySegment(c, o6 + h, NATIVE);
        c70.intoMemorySegment(c, o7, NATIVE); c71.intoMemorySegment(c, o7 + h, NATIVE);
    }

    /**
     * For fewer than {@value #SMALL_M} rows of C (the head at label positions, generation): B is read in place,
     * once, column range by column range, while the few rows of A stay in cache. Dot products of four A rows
     * with four B rows when B's rows run along k (forward); register tiles over k-blocks when they run along n.
     */
    private static void unpacked(Operand a, Operand b, MemorySegment c, int m, int n, int k, boolean accumulate) {
        int colsPerTask = Math.max(NR, ceilDiv(ceilDiv(n, 4 * CpuThreads.count()), NR) * NR);
        int tasks = ceilDiv(n, colsPerTask);
        CpuThreads.run(tasks, t -> {
            int col0 = t * colsPerTask;
            int col1 = Math.min(n, col0 + colsPerTask);
            if (b.transposed()) dotTiles(a, b, c, m, n, k, accumulate, col0, col1);
            else rowTiles(a, b, c, m, n, k, accumulate, col0, col1);
        }, a.segment(), b.segment(), c);
    }

    private static void dotTiles(Operand a, Operand b, MemorySegment c, int m, int n, int k, boolean accumulate, int col0, int col1) {
        MemorySegment as = a.segment(), bs = b.segment();
        long aRow = (long) a.stride() * Float.BYTES, bRow = (long) b.stride() * Float.BYTES, cRow = (long) n * Float.BYTES;
        int j = col0;
        for (; j + 4 <= col1; j += 4) {
            int i = 0;
            for (; i + 4 <= m; i += 4) {
                dot4x4(as, i * aRow, aRow, bs, j * bRow, bRow, k, c, i * cRow + (long) j * Float.BYTES, cRow, accumulate);
            }
            for (; i < m; i++) {
                for (int jj = j; jj < j + 4; jj++) storeDot(as, i * aRow, bs, jj * bRow, k, c, i * cRow + (long) jj * Float.BYTES, accumulate);
            }
        }
        for (; j < col1; j++) {
            for (int i = 0; i < m; i++) storeDot(as, i * aRow, bs, j * bRow, k, c, i * cRow + (long) j * Float.BYTES, accumulate);
        }
    }

    private static void storeDot(MemorySegment a, long aOffset, MemorySegment b, long bOffset, int k, MemorySegment c, long cOffset, boolean accumulate) {
        float dot = dot(a, aOffset, b, bOffset, k);
        c.set(FLOAT, cOffset, accumulate ? c.get(FLOAT, cOffset) + dot : dot);
    }

    /** The 4×4 block of C at {@code cOffset} (+)= dot products of rows of A and rows of B, all along k. */
    private static void dot4x4(MemorySegment a, long aOffset, long aRow, MemorySegment b, long bOffset, long bRow, int k,
                               MemorySegment c, long cOffset, long cRow, boolean accumulate) {
        FloatVector s00 = FloatVector.zero(F), s01 = FloatVector.zero(F), s02 = FloatVector.zero(F), s03 = FloatVector.zero(F);
        FloatVector s10 = FloatVector.zero(F), s11 = FloatVector.zero(F), s12 = FloatVector.zero(F), s13 = FloatVector.zero(F);
        FloatVector s20 = FloatVector.zero(F), s21 = FloatVector.zero(F), s22 = FloatVector.zero(F), s23 = FloatVector.zero(F);
        FloatVector s30 = FloatVector.zero(F), s31 = FloatVector.zero(F), s32 = FloatVector.zero(F), s33 = FloatVector.zero(F);
        int full = F.loopBound(k);
        for (int p = 0; p < full; p += L) {
            long at = (long) p * Float.BYTES;
            FloatVector b0 = FloatVector.fromMemorySegment(F, b, bOffset + at, NATIVE);
            FloatVector b1 = FloatVector.fromMemorySegment(F, b, bOffset + bRow + at, NATIVE);
            FloatVector b2 = FloatVector.fromMemorySegment(F, b, bOffset + 2 * bRow + at, NATIVE);
            FloatVector b3 = FloatVector.fromMemorySegment(F, b, bOffset + 3 * bRow + at, NATIVE);
            FloatVector x = FloatVector.fromMemorySegment(F, a, aOffset + at, NATIVE);
            s00 = x.fma(b0, s00); s01 = x.fma(b1, s01); s02 = x.fma(b2, s02); s03 = x.fma(b3, s03);
            x = FloatVector.fromMemorySegment(F, a, aOffset + aRow + at, NATIVE);
            s10 = x.fma(b0, s10); s11 = x.fma(b1, s11); s12 = x.fma(b2, s12); s13 = x.fma(b3, s13);
            x = FloatVector.fromMemorySegment(F, a, aOffset + 2 * aRow + at, NATIVE);
            s20 = x.fma(b0, s20); s21 = x.fma(b1, s21); s22 = x.fma(b2, s22); s23 = x.fma(b3, s23);
            x = FloatVector.fromMemorySegment(F, a, aOffset + 3 * aRow + at, NATIVE);
            s30 = x.fma(b0, s30); s31 = x.fma(b1, s31); s32 = x.fma(b2, s32); s33 = x.fma(b3, s33);
        }
        float[] sums = {
                Vec.sum(s00), Vec.sum(s01), Vec.sum(s02), Vec.sum(s03),
                Vec.sum(s10), Vec.sum(s11), Vec.sum(s12), Vec.sum(s13),
                Vec.sum(s20), Vec.sum(s21), Vec.sum(s22), Vec.sum(s23),
                Vec.sum(s30), Vec.sum(s31), Vec.sum(s32), Vec.sum(s33)};
        for (int r = 0; r < 4; r++) {
            for (int j = 0; j < 4; j++) {
                float sum = sums[r * 4 + j];
                for (int p = full; p < k; p++) {
                    long at = (long) p * Float.BYTES;
                    sum += a.get(FLOAT, aOffset + r * aRow + at) * b.get(FLOAT, bOffset + j * bRow + at);
                }
                long to = cOffset + r * cRow + (long) j * Float.BYTES;
                c.set(FLOAT, to, accumulate ? c.get(FLOAT, to) + sum : sum);
            }
        }
    }

    private static void rowTiles(Operand a, Operand b, MemorySegment c, int m, int n, int k, boolean accumulate, int col0, int col1) {
        long cRow = (long) n * Float.BYTES;
        if (!accumulate) {
            for (int i = 0; i < m; i++) c.asSlice(i * cRow + (long) col0 * Float.BYTES, (long) (col1 - col0) * Float.BYTES).fill((byte) 0);
        }
        // Element (i, p) of A: rows are k floats apart when A is stored transposed, one float apart otherwise.
        long aRow = (a.transposed() ? 1L : a.stride()) * Float.BYTES;
        long aStep = (a.transposed() ? a.stride() : 1L) * Float.BYTES;
        long bRow = (long) b.stride() * Float.BYTES;
        int fullEnd = col0 + (col1 - col0) / NR * NR;
        for (int p0 = 0; p0 < k; p0 += KC) {
            int depth = Math.min(KC, k - p0);
            for (int j = col0; j < fullEnd; j += NR) {
                for (int i = 0; i < m; i += 4) {
                    rowTile(a.segment(), aRow, aStep, b.segment(), bRow, c, cRow, i, Math.min(4, m - i), j, p0, depth);
                }
            }
            for (int i = 0; i < m; i++) {
                for (int j = fullEnd; j < col1; j++) {
                    float sum = 0f;
                    for (int p = p0; p < p0 + depth; p++) sum += a.get(i, p) * b.get(p, j);
                    long at = i * cRow + (long) j * Float.BYTES;
                    c.set(FLOAT, at, c.get(FLOAT, at) + sum);
                }
            }
        }
    }

    /**
     * C[row0 .. row0+rows, col0 .. col0+NR] += A[rows, p0 .. p0+depth] · B[p0 .. p0+depth, col0 .. col0+NR], rows ≤ 4,
     * reading both operands in place. Missing rows repeat the last one and are not stored.
     */
    private static void rowTile(MemorySegment a, long aRow, long aStep, MemorySegment b, long bRow, MemorySegment c, long cRow,
                                int row0, int rows, int col0, int p0, int depth) {
        long a0 = row0 * aRow + p0 * aStep;
        long a1 = a0 + Math.min(1, rows - 1) * aRow, a2 = a0 + Math.min(2, rows - 1) * aRow, a3 = a0 + Math.min(3, rows - 1) * aRow;
        long c0 = row0 * cRow + (long) col0 * Float.BYTES, h = (long) L * Float.BYTES;
        FloatVector c00 = FloatVector.fromMemorySegment(F, c, c0, NATIVE), c01 = FloatVector.fromMemorySegment(F, c, c0 + h, NATIVE);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        long b0 = p0 * bRow + (long) col0 * Float.BYTES;
        for (int p = 0; p < depth; p++) {
            long bp = b0 + p * bRow, ap = p * aStep;
            FloatVector v0 = FloatVector.fromMemorySegment(F, b, bp, NATIVE);
            FloatVector v1 = FloatVector.fromMemorySegment(F, b, bp + h, NATIVE);
            FloatVector x = FloatVector.broadcast(F, a.get(FLOAT, a0 + ap));
            c00 = v0.fma(x, c00); c01 = v1.fma(x, c01);
            x = FloatVector.broadcast(F, a.get(FLOAT, a1 + ap));
            c10 = v0.fma(x, c10); c11 = v1.fma(x, c11);
            x = FloatVector.broadcast(F, a.get(FLOAT, a2 + ap));
            c20 = v0.fma(x, c20); c21 = v1.fma(x, c21);
            x = FloatVector.broadcast(F, a.get(FLOAT, a3 + ap));
            c30 = v0.fma(x, c30); c31 = v1.fma(x, c31);
        }
        c00.intoMemorySegment(c, c0, NATIVE); c01.intoMemorySegment(c, c0 + h, NATIVE);
        if (rows > 1) addRow(c, c0 + cRow, c10, c11);
        if (rows > 2) addRow(c, c0 + 2 * cRow, c20, c21);
        if (rows > 3) addRow(c, c0 + 3 * cRow, c30, c31);
    }

    private static void addRow(MemorySegment c, long offset, FloatVector v0, FloatVector v1) {
        long h = (long) L * Float.BYTES;
        v0.add(FloatVector.fromMemorySegment(F, c, offset, NATIVE)).intoMemorySegment(c, offset, NATIVE);
        v1.add(FloatVector.fromMemorySegment(F, c, offset + h, NATIVE)).intoMemorySegment(c, offset + h, NATIVE);
    }

    private static float dot(MemorySegment x, long xOffset, MemorySegment y, long yOffset, int length) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        for (int bound = length - 2 * L; i <= bound; i += 2 * L) {
            long xo = xOffset + (long) i * Float.BYTES, yo = yOffset + (long) i * Float.BYTES;
            acc0 = FloatVector.fromMemorySegment(F, x, xo, NATIVE).fma(FloatVector.fromMemorySegment(F, y, yo, NATIVE), acc0);
            acc1 = FloatVector.fromMemorySegment(F, x, xo + (long) L * Float.BYTES, NATIVE)
                    .fma(FloatVector.fromMemorySegment(F, y, yo + (long) L * Float.BYTES, NATIVE), acc1);
        }
        float sum = Vec.sum(acc0.add(acc1));
        for (; i < length; i++) {
            sum += x.get(FLOAT, xOffset + (long) i * Float.BYTES) * y.get(FLOAT, yOffset + (long) i * Float.BYTES);
        }
        return sum;
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }
}
