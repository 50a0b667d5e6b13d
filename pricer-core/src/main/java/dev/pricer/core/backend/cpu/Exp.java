package dev.pricer.core.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import static dev.pricer.core.backend.cpu.Vec.F;

/**
 * e^x in float, from exactly rounded operations only (multiply, add, fma, bit shifts), so the same input gives the
 * same bits in the interpreter, C1 and C2. {@code lanewise(VectorOperators.EXP)} does not: the JIT compiles it to
 * a vector math library call, while the interpreter rounds {@code Math.exp} per lane, and their last bits differ.
 *
 * <p>Cody–Waite reduction: {@code x = n·ln2 + r} with n the nearest integer to {@code x/ln2} and |r| ≤ ln2/2,
 * then {@code e^r} by a degree-6 polynomial (Cephes' expf coefficients) and {@code 2^n} built from exponent
 * bits, in two halves so that results down to the subnormals round once. Within 1.01 ulp of the exact value
 * over every 7th float of [-104, 89] (ExpTest checks 1.5 ulp on a sparser sweep); exp(-∞) = 0, exp(+∞) = +∞,
 * NaN stays NaN, and below -104 or above 89 it underflows or overflows.
 */
final class Exp {

    private static final float LN2_HI = 0.693147182464599609375f;
    private static final float LN2_LO = -1.904654323148236e-9f;
    /** 1.5·2^23: adding it rounds a float of magnitude below 2^22 to an integer, held in the low mantissa bits. */
    private static final float ROUNDER = 0x1.8p23f;
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);
    /** e^-104 rounds to 0 and e^89 to +∞ in float; clamping there keeps n within [-150, 128]. */
    private static final float LOW = -104f, HIGH = 89f;

    private static final FloatVector LOG2E = FloatVector.broadcast(F, 1.44269504088896341f);
    private static final FloatVector ROUNDER_V = FloatVector.broadcast(F, ROUNDER);
    private static final FloatVector MINUS_LN2_HI = FloatVector.broadcast(F, -LN2_HI);
    private static final FloatVector MINUS_LN2_LO = FloatVector.broadcast(F, -LN2_LO);
    private static final FloatVector P0 = FloatVector.broadcast(F, 1.9875691500e-4f);
    private static final FloatVector P1 = FloatVector.broadcast(F, 1.3981999507e-3f);
    private static final FloatVector P2 = FloatVector.broadcast(F, 8.3334519073e-3f);
    private static final FloatVector P3 = FloatVector.broadcast(F, 4.1665795894e-2f);
    private static final FloatVector P4 = FloatVector.broadcast(F, 1.6666665459e-1f);
    private static final FloatVector P5 = FloatVector.broadcast(F, 5.0000001201e-1f);

    private Exp() {
    }

    static FloatVector exp(FloatVector x) {
        FloatVector clamped = x.max(LOW).min(HIGH);
        FloatVector rounded = clamped.fma(LOG2E, ROUNDER_V);
        FloatVector n = rounded.sub(ROUNDER);
        FloatVector r = n.fma(MINUS_LN2_HI, clamped);
        r = n.fma(MINUS_LN2_LO, r);
        FloatVector p = r.fma(P0, P1).fma(r, P2).fma(r, P3).fma(r, P4).fma(r, P5);
        FloatVector er = p.fma(r.mul(r), r).add(1f);
        IntVector k = ((IntVector) rounded.viewAsIntegralLanes()).sub(ROUNDER_BITS);
        IntVector k1 = k.lanewise(VectorOperators.ASHR, 1);
        IntVector k2 = k.sub(k1);
        FloatVector s1 = (FloatVector) k1.add(127).lanewise(VectorOperators.LSHL, 23).viewAsFloatingLanes();
        FloatVector s2 = (FloatVector) k2.add(127).lanewise(VectorOperators.LSHL, 23).viewAsFloatingLanes();
        return er.mul(s1).mul(s2);
    }

    /** The same function for one value: lane 0 of the vector form, so scalar tails round exactly as vector bodies. */
    static float exp(float x) {
        return exp(FloatVector.broadcast(F, x)).lane(0);
    }
}
