package dev.pricer.core.config;

/** How a model stretches RoPE's frequencies beyond its pre-training context (HF {@code rope_scaling}). */
public sealed interface RopeScaling {

    /** Scales one inverse frequency; {@code inverse frequency = 1 / theta^(2i/d)} before scaling. */
    double scale(double inverseFrequency);

    record None() implements RopeScaling {
        @Override
        public double scale(double inverseFrequency) {
            return inverseFrequency;
        }
    }

    /** Position interpolation: every frequency divided by the factor. */
    record Linear(double factor) implements RopeScaling {
        @Override
        public double scale(double inverseFrequency) {
            return inverseFrequency / factor;
        }
    }

    /**
     * Llama 3.1's scheme: long wavelengths are divided by the factor, short ones kept, the band between
     * blended smoothly (transformers' {@code _compute_llama3_parameters}).
     */
    record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) implements RopeScaling {
        @Override
        public double scale(double inverseFrequency) {
            double lowFreqWavelen = originalMaxPositions / lowFreqFactor;
            double highFreqWavelen = originalMaxPositions / highFreqFactor;
            double wavelen = 2 * Math.PI / inverseFrequency;
            if (wavelen < highFreqWavelen) return inverseFrequency;
            if (wavelen > lowFreqWavelen) return inverseFrequency / factor;
            double smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
            return (1 - smooth) * inverseFrequency / factor + smooth * inverseFrequency;
        }
    }
}
