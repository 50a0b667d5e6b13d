package dev.pricer.core.quant;

/**
 * bitsandbytes' signed 8-bit dynamic data type ({@code create_dynamic_map(signed=True)}), which double
 * quantization uses for the per-block absmax values: for each decimal exponent 10⁻⁶ … 10⁰ the midpoints of an
 * evenly spaced grid over [0.1, 1], mirrored for negatives, plus 0 and 1, sorted.
 */
public final class DynamicMap {

    public static final int SIZE = 256;
    /** The decimal scales 10⁻⁶ … 10⁰ as Python spells them before torch rounds them to float. */
    private static final double[] SCALES = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};

    private DynamicMap() {
    }

    /** The 256 values, bit for bit as bitsandbytes builds them with torch in float32. */
    public static float[] signed() {
        float[] values = new float[SIZE];
        int n = 0;
        for (int e = 0; e < SCALES.length; e++) {
            float[] grid = torchLinspace(0.1f, 1.0f, (1 << e) + 1);
            float scale = (float) SCALES[e];
            for (int i = 0; i + 1 < grid.length; i++) {
                float mean = (grid[i] + grid[i + 1]) / 2f;
                values[n++] = scale * mean;
                values[n++] = -scale * mean;
            }
        }
        values[n++] = 0f;
        values[n] = 1f;
        java.util.Arrays.sort(values);
        return values;
    }

    /**
     * torch's float32 {@code linspace} on the CPU: counted up from the start for the first half and down from
     * the end for the second, each step one fused multiply-add (the compiler contracts it).
     */
    private static float[] torchLinspace(float start, float end, int steps) {
        float step = (end - start) / (steps - 1);
        float[] out = new float[steps];
        for (int i = 0; i < steps; i++) {
            out[i] = i < steps / 2 ? Math.fma(step, (float) i, start) : Math.fma(-step, (float) (steps - 1 - i), end);
        }
        return out;
    }

    /**
     * The index of {@code x} (already scaled into [-1, 1]) in a sorted 256-value map, found as bitsandbytes'
     * {@code dQuantize} does: seven halving steps from the middle, then the nearer of the last two candidates
     * by comparing with their float midpoint (a value on the midpoint stays with the candidate it reached).
     */
    public static int encode(float[] map, float x) {
        int pivot = 127, upperPivot = 255, lowerPivot = 0;
        float lower = -1f, upper = 1f;
        float val = map[pivot];
        for (int step = 64; step > 0; step >>= 1) {
            if (x > val) {
                lowerPivot = pivot;
                lower = val;
                pivot += step;
            } else {
                upperPivot = pivot;
                upper = val;
                pivot -= step;
            }
            val = map[pivot];
        }
        if (upperPivot == 255) upper = map[255];
        if (lowerPivot == 0) lower = map[0];
        if (x > val) return x > (upper + val) * 0.5f ? upperPivot : pivot;
        return x < (lower + val) * 0.5f ? lowerPivot : pivot;
    }
}
