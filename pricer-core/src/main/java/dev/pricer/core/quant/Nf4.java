package dev.pricer.core.quant;

/**
 * The 4-bit NormalFloat data type of QLoRA as bitsandbytes defines it: sixteen values with equal probability
 * mass under a standard normal, scaled into [-1, 1] with an exact zero. A weight is stored as the index
 * (its code) of the value nearest to it once its block has been divided by the block's absolute maximum.
 */
public final class Nf4 {

    /** Elements per absmax block, bitsandbytes' default for 4-bit weights. */
    public static final int BLOCK_SIZE = 64;

    /** bitsandbytes' {@code get_4bit_type("nf4")} in its published decimal form. */
    private static final double[] PUBLISHED = {
            -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
            -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
            0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
            0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0};

    private static final float[] CODEBOOK = new float[16];

    /**
     * The decision boundaries of bitsandbytes' CUDA quantization tree ({@code dQuantizeNF4}), ascending: the
     * midpoints of neighbouring values written as decimal float literals. They must stay literals: a midpoint of
     * two float32 values is often an exact tie between two floats, and rounding the double midpoint instead of
     * the decimal literal picks the other float for four of the fifteen.
     */
    private static final float[] THRESHOLDS = {
            -0.8480964004993439f, -0.6106329262256622f, -0.4599952697753906f, -0.33967943489551544f,
            -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
            0.1202552504837513f, 0.2035212516784668f, 0.2920137718319893f, 0.3893125355243683f,
            0.5016634166240692f, 0.6427869200706482f, 0.8614784181118011f};

    static {
        for (int i = 0; i < 16; i++) CODEBOOK[i] = (float) PUBLISHED[i];
    }

    private Nf4() {
    }

    /** The sixteen float32 values, as bitsandbytes stores them in {@code quant_map}. */
    public static float[] codebook() {
        return CODEBOOK.clone();
    }

    public static float[] thresholds() {
        return THRESHOLDS.clone();
    }

    public static float value(int code) {
        return CODEBOOK[code];
    }

    /**
     * The code of a value already scaled into [-1, 1]: the number of thresholds strictly below it. A value on a
     * threshold takes the lower code and NaN takes code 0, which is what bitsandbytes' CUDA tree does (NaN
     * arises there from an all-zero block, scaled by 1/0).
     */
    public static int encode(float scaled) {
        int lo = 0, hi = THRESHOLDS.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (scaled > THRESHOLDS[mid]) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
