package dev.pricer.core.backend;

/**
 * Hyper-parameters of one AdamW update, as {@code torch.optim.AdamW} applies it: weight decay decoupled
 * ({@code p *= 1 - lr * weightDecay}) and both moments bias-corrected by the 1-based {@code step}.
 */
public record AdamW(float lr, float beta1, float beta2, float eps, float weightDecay, int step) {

    public AdamW {
        if (step < 1) throw new IllegalArgumentException("AdamW step is 1-based, got " + step);
    }
}
