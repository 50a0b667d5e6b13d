package dev.pricer.core.backend.cpu;

import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.Nf4Buffer;
import dev.pricer.core.quant.Nf4Quantizer;
import dev.pricer.core.quant.Nf4Weight;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The residual stream's additions folded into the operation before them: a layer's products plus a residual into a
 * separate output (dense and NF4, with and without a LoRA update), and RMSNorm's backward adding the residual's
 * gradient as it writes its own. On the CPU each must give exactly the floats of the steps it replaces (product,
 * LoRA, axpy; copy then accumulate), which the golden fixtures were matched with, and leave its residual input as it was.
 */
class ResidualAdditionsTest {

    private final CpuBackend backend = new CpuBackend();

    private Buffer floats(float[] values) {
        return backend.upload(HostTensor.ofFloats(values.clone(), values.length), true);
    }

    private static float[] gaussian(Random random, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) random.nextGaussian() * scale;
        return v;
    }

    /** A LoRA update u·vᵀ of rank r, u given transposed ({@code ut} [r, m]), or none (r = 0), to add between the product and the residual. */
    private record LowRank(Buffer ut, Buffer v, float[] utValues, float[] vValues) {
    }

    private LowRank lowRank(Random random, int m, int n, int r) {
        if (r == 0) return new LowRank(null, null, new float[0], new float[0]);
        float[] ut = gaussian(random, r * m, 1f), v = gaussian(random, n * r, 0.1f);
        return new LowRank(floats(ut), floats(v), ut, v);
    }

    /** What the operation replaces: the product, the low-rank update accumulated, then the residual, as PEFT adds them. */
    private float[] inThreeSteps(Buffer product, LowRank update, Buffer residual, int m, int n, int r) {
        if (update.ut() != null) backend.matmulAtBt(update.ut(), update.v(), product, m, n, r, true);
        backend.axpy(1f, residual, product);
        return backend.toFloats(product);
    }

    /** Rows of 37 leave a scalar tail after the vector lanes; 64 fill them; r 0 is a layer without LoRA. */
    @ParameterizedTest(name = "m={0} n={1} k={2} r={3}")
    @CsvSource({"5, 37, 19, 0", "5, 37, 19, 4", "33, 64, 64, 8", "1, 8, 100, 2"})
    void productPlusResidualIsTheProductThenTheLowRankUpdateThenTheResidualBitForBit(int m, int n, int k, int r) {
        Random random = new Random(m * 1000L + n * 10L + k + r);
        float[] a = gaussian(random, m * k, 1f), b = gaussian(random, n * k, 0.1f), residual = gaussian(random, m * n, 1f);
        LowRank update = lowRank(random, m, n, r);
        Buffer out = backend.allocate(DType.F32, (long) m * n), product = backend.allocate(DType.F32, (long) m * n);
        Buffer res = floats(residual);
        backend.fill(out, Float.NaN);
        backend.matmulABtPlusResidual(floats(a), floats(b), update.ut(), update.v(), res, out, m, n, k, r);
        backend.matmulABt(floats(a), floats(b), product, m, n, k, false);
        assertArrayEquals(inThreeSteps(product, update, res, m, n, r), backend.toFloats(out));
        assertArrayEquals(residual, backend.toFloats(res), "the residual is only read");
        float[] y = backend.toFloats(out);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = residual[i * n + j];
                for (int p = 0; p < k; p++) sum += (double) a[i * k + p] * b[j * k + p];
                for (int p = 0; p < r; p++) sum += (double) update.utValues()[p * m + i] * update.vValues()[j * r + p];
                assertEquals(sum, y[i * n + j], 1e-4, "y[" + i + ", " + j + "]");
            }
        }
    }

    @ParameterizedTest(name = "m={0} n={1} k={2} r={3}")
    @CsvSource({"3, 37, 160, 4", "9, 16, 256, 0"})
    void nf4ProductPlusResidualIsTheProductThenTheLowRankUpdateThenTheResidualBitForBit(int m, int n, int k, int r) {
        Random random = new Random(m * 1000L + n * 10L + k + r);
        Nf4Weight weight = Nf4Quantizer.quantize(MemorySegment.ofArray(gaussian(random, n * k, 0.05f)), new long[]{n, k}, "float32", true);
        Nf4Buffer w = backend.uploadNf4(weight);
        float[] x = gaussian(random, m * k, 1f), residual = gaussian(random, m * n, 1f);
        LowRank update = lowRank(random, m, n, r);
        Buffer out = backend.allocate(DType.F32, (long) m * n), product = backend.allocate(DType.F32, (long) m * n);
        Buffer res = floats(residual);
        backend.fill(out, Float.NaN);
        backend.matmulNf4ABtPlusResidual(floats(x), w, update.ut(), update.v(), res, out, m, n, k, r);
        backend.matmulNf4ABt(floats(x), w, product, m, n, k, false);
        assertArrayEquals(inThreeSteps(product, update, res, m, n, r), backend.toFloats(out));
        assertArrayEquals(residual, backend.toFloats(res), "the residual is only read");
    }

    private record Norm(Buffer dout, Buffer x, Buffer weight, Buffer rstd) {
    }

    private Norm norm(Random random, int rows, int dim) {
        Buffer x = floats(gaussian(random, rows * dim, 2f)), weight = floats(gaussian(random, dim, 1f));
        Buffer rstd = backend.allocate(DType.F32, rows);
        backend.rmsNormForward(x, weight, backend.allocate(DType.F32, (long) rows * dim), rstd, rows, dim, 1e-5f);
        return new Norm(floats(gaussian(random, rows * dim, 1f)), x, weight, rstd);
    }

    @ParameterizedTest(name = "dim={0}")
    @ValueSource(ints = {64, 37})
    void normBackwardIntoASeparateOutputIsCopyThenAccumulateBitForBit(int dim) {
        int rows = 19;
        Random random = new Random(dim);
        Norm n = norm(random, rows, dim);
        float[] residual = gaussian(random, rows * dim, 1f);
        Buffer dResidual = floats(residual), dx = backend.allocate(DType.F32, (long) rows * dim);
        Buffer dweight = backend.allocate(DType.F32, dim), dweightTwoSteps = backend.allocate(DType.F32, dim);
        backend.fill(dx, Float.NaN);
        backend.rmsNormBackward(n.dout(), n.x(), n.weight(), n.rstd(), dResidual, dx, dweight, rows, dim);
        Buffer accumulated = floats(residual);
        backend.rmsNormBackward(n.dout(), n.x(), n.weight(), n.rstd(), accumulated, accumulated, dweightTwoSteps, rows, dim);
        assertArrayEquals(backend.toFloats(accumulated), backend.toFloats(dx));
        assertArrayEquals(backend.toFloats(dweightTwoSteps), backend.toFloats(dweight));
        assertArrayEquals(residual, backend.toFloats(dResidual), "the residual's gradient is only read");
        Buffer normOnly = backend.allocate(DType.F32, (long) rows * dim);
        backend.rmsNormBackward(n.dout(), n.x(), n.weight(), n.rstd(), null, normOnly, null, rows, dim);
        float[] added = backend.toFloats(dx), alone = backend.toFloats(normOnly);
        for (int i = 0; i < alone.length; i++) assertEquals(residual[i] + alone[i], added[i], "element " + i);
    }

    @ParameterizedTest(name = "dim={0}")
    @ValueSource(ints = {64, 37})
    void normBackwardWithoutAResidualOverwritesWithTheNormsGradient(int dim) {
        int rows = 7;
        Random random = new Random(100 + dim);
        Norm n = norm(random, rows, dim);
        Buffer dx = floats(gaussian(random, rows * dim, 1f)), fromZero = backend.allocate(DType.F32, (long) rows * dim);
        backend.rmsNormBackward(n.dout(), n.x(), n.weight(), n.rstd(), null, dx, null, rows, dim);
        backend.rmsNormBackward(n.dout(), n.x(), n.weight(), n.rstd(), fromZero, fromZero, null, rows, dim);
        assertArrayEquals(backend.toFloats(fromZero), backend.toFloats(dx));
    }
}
