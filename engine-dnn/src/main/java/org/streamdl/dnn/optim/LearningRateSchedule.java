package org.streamdl.dnn.optim;

import java.util.Arrays;
import org.streamdl.tensor.Checks;

/**
 * The learning rate as a function of the step (or epoch) count, with torch.optim.lr_scheduler's
 * formulas. The trainer applies it before each step: {@code optimizer.setLearningRate(s.at(t))}.
 */
@FunctionalInterface
public interface LearningRateSchedule {

    double at(long t);

    static LearningRateSchedule constant(double lr) {
        return t -> lr;
    }

    /** lr·γ^⌊t / stepSize⌋. */
    static LearningRateSchedule step(double lr, long stepSize, double gamma) {
        Checks.argument(stepSize > 0 && gamma > 0, "step schedule needs stepSize > 0 and gamma > 0");
        return t -> lr * Math.pow(gamma, t / stepSize);
    }

    /** lr·γ^(number of milestones ≤ t). */
    static LearningRateSchedule multiStep(double lr, long[] milestones, double gamma) {
        long[] sorted = milestones.clone();
        Arrays.sort(sorted);
        return t -> {
            int passed = 0;
            while (passed < sorted.length && sorted[passed] <= t) {
                passed++;
            }
            return lr * Math.pow(gamma, passed);
        };
    }

    /** lr·γ^t. */
    static LearningRateSchedule exponential(double lr, double gamma) {
        return t -> lr * Math.pow(gamma, t);
    }

    /** Cosine annealing from lr to minLr over {@code period} (Loshchilov and Hutter, 2017), then minLr. */
    static LearningRateSchedule cosine(double lr, long period, double minLr) {
        Checks.argument(period > 0, "cosine schedule needs period > 0");
        return t -> t >= period ? minLr : minLr + (lr - minLr) * (1 + Math.cos(Math.PI * t / period)) / 2;
    }

    /** Linear warm-up from lr·startFactor to the wrapped schedule over {@code warmup} steps. */
    static LearningRateSchedule linearWarmup(LearningRateSchedule after, long warmup, double startFactor) {
        Checks.argument(warmup > 0 && startFactor > 0 && startFactor <= 1, "warm-up needs warmup > 0, 0 < startFactor <= 1");
        return t -> t >= warmup ? after.at(t) : after.at(t) * (startFactor + (1 - startFactor) * t / warmup);
    }
}
