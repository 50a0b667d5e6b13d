package dev.pricer.train.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.train.config.LrSchedulerType;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LrScheduleTest {

    static JsonNode summary() throws IOException {
        try (InputStream in = LrScheduleTest.class.getResourceAsStream("/hf-tiny-llama/summary.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    @Test
    void cosineMatchesTransformersOverAThousandSteps() throws IOException {
        JsonNode expected = summary().get("cosine_warmup30_total1000_lr1e-4");
        LrSchedule schedule = new LrSchedule(LrSchedulerType.COSINE, 1e-4, 30, 1000);
        assertEquals(1000, expected.size());
        for (int s = 0; s < 1000; s++) {
            double want = expected.get(s).asDouble();
            assertEquals(want, schedule.lr(s), 1e-12 * Math.max(want, 1e-4), "step " + s);
        }
    }

    @Test
    void cosineMatchesTheFixtureRun() throws IOException {
        JsonNode expected = summary().get("tiny-llama").get("run.lr");
        LrSchedule schedule = new LrSchedule(LrSchedulerType.COSINE, 2e-3, 2, 12);
        for (int s = 0; s < expected.size(); s++) {
            assertEquals(expected.get(s).asDouble(), schedule.lr(s), 1e-15, "step " + s);
        }
    }

    @Test
    void linearRampsUpThenDownToZero() {
        LrSchedule s = new LrSchedule(LrSchedulerType.LINEAR, 1.0, 4, 20);
        assertEquals(0.0, s.lr(0));
        assertEquals(0.5, s.lr(2), 1e-15);
        assertEquals(1.0, s.lr(4), 1e-15);
        assertEquals(0.5, s.lr(12), 1e-15);
        assertEquals(1.0 / 16, s.lr(19), 1e-15);
        assertEquals(0.0, s.lr(20));
    }

    @Test
    void constantIgnoresWarmupAndConstantWithWarmupDoesNot() {
        LrSchedule flat = new LrSchedule(LrSchedulerType.CONSTANT, 3e-4, 10, 100);
        LrSchedule warm = new LrSchedule(LrSchedulerType.CONSTANT_WITH_WARMUP, 3e-4, 10, 100);
        assertEquals(3e-4, flat.lr(0));
        assertEquals(0.0, warm.lr(0));
        assertEquals(1.5e-4, warm.lr(5), 1e-18);
        assertEquals(3e-4, warm.lr(10));
        assertEquals(3e-4, warm.lr(99));
    }
}
