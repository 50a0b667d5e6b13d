package dev.pricer.core.quant;

/** The absmax of every block of an NF4 weight, kept either as float32 or double-quantized to 8 bits. */
public sealed interface BlockScales {

    int blocks();

    /** The absmax of one block, exactly as bitsandbytes reconstructs it before dequantizing. */
    float scale(int block);

    /** The absmaxes of blocks [from, from + count) into out[0 ..], each exactly as {@link #scale} gives it. */
    void scales(int from, int count, float[] out);

    /** One float32 absmax per block ({@code weight.absmax} as float32). */
    record Plain(float[] absmax) implements BlockScales {
        @Override
        public int blocks() {
            return absmax.length;
        }

        @Override
        public float scale(int block) {
            return absmax[block];
        }

        @Override
        public void scales(int from, int count, float[] out) {
            System.arraycopy(absmax, from, out, 0, count);
        }
    }

    /**
     * Double quantization: {@code absmax - offset} stored as 8-bit codes of {@code nestedMap} (the dynamic map),
     * with one float32 absmax per {@code nestedBlockSize} codes. A block's absmax is
     * {@code nestedMap[code] * nestedAbsmax[block / nestedBlockSize] + offset}, each step rounded to float.
     */
    record DoubleQuantized(byte[] codes, float[] nestedAbsmax, float[] nestedMap, int nestedBlockSize, float offset)
            implements BlockScales {
        @Override
        public int blocks() {
            return codes.length;
        }

        @Override
        public float scale(int block) {
            float centred = nestedMap[codes[block] & 0xFF] * nestedAbsmax[block / nestedBlockSize];
            return centred + offset;
        }

        /** As {@link #scale} block by block, the nested block stepping along instead of a division per block. */
        @Override
        public void scales(int from, int count, float[] out) {
            int nested = from / nestedBlockSize, left = nestedBlockSize - from % nestedBlockSize;
            for (int i = 0; i < count; i++, left--) {
                if (left == 0) {
                    nested++;
                    left = nestedBlockSize;
                }
                float centred = nestedMap[codes[from + i] & 0xFF] * nestedAbsmax[nested];
                out[i] = centred + offset;
            }
        }
    }
}
