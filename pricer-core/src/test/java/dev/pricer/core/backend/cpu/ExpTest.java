package dev.pricer.core.backend.cpu;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Exp} against {@code StrictMath.exp}, and the same bits from its scalar and vector forms, cold and compiled. */
class ExpTest {

    /** Every 4099th float from -104 to 89, where exp goes from 0 through the subnormals to overflow. */
    private static float[] sweep() {
        int step = 4099;
        // a negative float's bit pattern grows with its magnitude: walk -104 down to -0, then +0 up to 89
        long negativeFrom = Integer.toUnsignedLong(Float.floatToRawIntBits(-104f)), negativeTo = Integer.toUnsignedLong(Float.floatToRawIntBits(-0f));
        long positiveTo = Float.floatToRawIntBits(89f);
        float[] xs = new float[(int) ((negativeFrom - negativeTo) / step + positiveTo / step + 2)];
        int n = 0;
        for (long b = negativeFrom; b > negativeTo; b -= step) xs[n++] = Float.intBitsToFloat((int) b);
        for (long b = 0; b < positiveTo; b += step) xs[n++] = Float.intBitsToFloat((int) b);
        return Arrays.copyOf(xs, n);
    }

    /** Distance in units in the last place of the correctly rounded result. */
    private static double ulps(float got, double exact) {
        float rounded = (float) exact;
        return Math.abs(got - exact) / Math.ulp(rounded == 0f ? Float.MIN_VALUE : rounded);
    }

    @Test
    void withinOneAndAHalfUlpOfStrictMathOverTheWholeRange() {
        float[] xs = sweep();
        double worst = 0;
        float worstAt = 0;
        for (float x : xs) {
            double e = ulps(Exp.exp(x), StrictMath.exp(x));
            if (e > worst) {
                worst = e;
                worstAt = x;
            }
        }
        assertTrue(xs.length > 500_000, "sweep of " + xs.length);
        assertTrue(worst <= 1.5, "worst error " + worst + " ulp at x = " + worstAt);
    }

    @Test
    void edgeCases() {
        assertEquals(1f, Exp.exp(0f));
        assertEquals(1f, Exp.exp(-0f));
        assertEquals(0f, Exp.exp(Float.NEGATIVE_INFINITY));
        assertEquals(0f, Exp.exp(-1000f));
        assertEquals(0f, Exp.exp(-104f));
        assertEquals(Float.POSITIVE_INFINITY, Exp.exp(Float.POSITIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, Exp.exp(89f));
        assertEquals(Float.POSITIVE_INFINITY, Exp.exp(1000f));
        assertTrue(Float.isNaN(Exp.exp(Float.NaN)));
        assertTrue(Float.isNaN(Exp.exp(Float.intBitsToFloat(0xffc00001))), "a negative NaN");
        // the largest float whose exp is finite, and the smallest subnormal results
        assertEquals((float) StrictMath.exp(88.72283f), Exp.exp(88.72283f), Math.ulp(Float.MAX_VALUE));
        assertTrue(Exp.exp(88.72284f) == Float.POSITIVE_INFINITY);
        assertTrue(ulps(Exp.exp(-100f), StrictMath.exp(-100f)) <= 1, "subnormal e^-100 = " + Exp.exp(-100f));
        assertTrue(ulps(Exp.exp(-103f), StrictMath.exp(-103f)) <= 1, "e^-103 = " + Exp.exp(-103f));
        float minNormal = (float) Math.log(Float.MIN_NORMAL);
        assertTrue(ulps(Exp.exp(minNormal), StrictMath.exp(minNormal)) <= 1, "e^" + minNormal + " = " + Exp.exp(minNormal));
    }

    /**
     * Every lane of the vector form equals the scalar form, bit for bit, before and after the JIT compiles
     * both (the first round runs mostly interpreted when this class runs first, the last one compiled).
     */
    @Test
    void vectorAndScalarFormsGiveTheSameBitsOnEveryTier() {
        float[] xs = sweep();
        int lanes = Vec.F.length();
        int[] first = bits(xs, lanes);
        for (int round = 0; round < 30; round++) assertArrayEqualsBits(first, bits(xs, lanes), round);
        float[] special = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0f, 0f, -104f, 89f, 88.72283f, -87.5f};
        for (float x : special) {
            assertEquals(Float.floatToRawIntBits(Exp.exp(x)), Float.floatToRawIntBits(Exp.exp(FloatVector.broadcast(Vec.F, x)).lane(lanes - 1)), "x = " + x);
        }
    }

    /** Vector results for the whole vectors of xs, then scalar ones for the same xs: both must agree. */
    private static int[] bits(float[] xs, int lanes) {
        int n = xs.length / lanes * lanes;
        int[] out = new int[n];
        for (int i = 0; i < n; i += lanes) {
            FloatVector e = Exp.exp(FloatVector.fromArray(Vec.F, xs, i));
            for (int l = 0; l < lanes; l++) {
                out[i + l] = Float.floatToRawIntBits(e.lane(l));
                int scalar = Float.floatToRawIntBits(Exp.exp(xs[i + l]));
                if (scalar != out[i + l]) throw new AssertionError("x = " + xs[i + l] + ": vector " + e.lane(l) + ", scalar " + Exp.exp(xs[i + l]));
            }
        }
        return out;
    }

    private static void assertArrayEqualsBits(int[] want, int[] got, int round) {
        for (int i = 0; i < want.length; i++) {
            if (want[i] != got[i]) {
                throw new AssertionError("round " + round + ", element " + i + ": " + Float.intBitsToFloat(want[i]) + " then " + Float.intBitsToFloat(got[i]));
            }
        }
    }
}
