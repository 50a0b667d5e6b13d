package dev.pricer.train.schedule;

import dev.pricer.train.config.LrSchedulerType;

/**
 * The learning rate at each optimizer step, as transformers' {@code get_*_schedule_with_warmup} computes it:
 * a linear ramp from 0 over the warmup steps, then the schedule's shape. The value at step {@code s} is the
 * one used by the optimizer update of step {@code s} (step 0 is the first update).
 */
public record LrSchedule(LrSchedulerType type, double peak, int warmupSteps, int totalSteps) {

    public LrSchedule {
        if (warmupSteps < 0 || totalSteps < 1) {
            throw new IllegalArgumentException("schedule needs warmup >= 0 and total >= 1, got " + warmupSteps + " and " + totalSteps);
        }
    }

    public double lr(int step) {
        return peak * factor(step);
    }

    private double factor(int step) {
        boolean warming = step < warmupSteps && type != LrSchedulerType.CONSTANT;
        if (warming) return (double) step / Math.max(1, warmupSteps);
        return switch (type) {
            case CONSTANT, CONSTANT_WITH_WARMUP -> 1.0;
            case LINEAR -> Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
            case COSINE -> {
                double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
                // num_cycles = 0.5: half a cosine wave from the peak down to zero
                yield Math.max(0.0, 0.5 * (1.0 + StrictMath.cos(Math.PI * 2.0 * 0.5 * progress)));
            }
        };
    }
}
