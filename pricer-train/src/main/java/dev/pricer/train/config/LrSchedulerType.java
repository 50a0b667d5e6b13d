package dev.pricer.train.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** The learning-rate schedules, under their {@code lr_scheduler_type} names. */
public enum LrSchedulerType {
    COSINE, LINEAR, CONSTANT, CONSTANT_WITH_WARMUP;

    @JsonValue
    public String hfName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static LrSchedulerType of(String name) {
        for (LrSchedulerType t : values()) {
            if (t.hfName().equals(name)) return t;
        }
        throw new IllegalArgumentException("lr_scheduler_type = " + name + ": must be one of " + names());
    }

    public static List<String> names() {
        return Arrays.stream(values()).map(LrSchedulerType::hfName).toList();
    }
}
