package dev.pricer.train.checkpoint;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code trainer_state.json}: the fields Hugging Face's {@code TrainerState} writes (so tools that read it
 * work), plus what an exact resume needs: where in the data order the run stands and a fingerprint of the
 * data, so that resuming against different data or batching is refused instead of silently diverging.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.ALWAYS)
public record TrainerState(
        int globalStep,
        double epoch,
        int maxSteps,
        double numTrainEpochs,
        int loggingSteps,
        int evalSteps,
        int saveSteps,
        int trainBatchSize,
        List<Map<String, Object>> logHistory,
        DataPosition dataPosition,
        String dataFingerprint,
        int trainExamples) {

    /** The next micro-batch to train on: micro-batch {@code microBatch} of epoch {@code epoch}'s order. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record DataPosition(int epoch, int microBatch) {
    }

    public static final String FILE = "trainer_state.json";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public TrainerState {
        logHistory = List.copyOf(logHistory);
    }

    public void write(Path file) throws IOException {
        JSON.writeValue(file.toFile(), this);
    }

    public static TrainerState read(Path file) {
        try {
            TrainerState s = JSON.readValue(file.toFile(), TrainerState.class);
            if (s.dataPosition() == null || s.logHistory() == null) {
                throw new IllegalArgumentException(file + ": missing data_position or log_history");
            }
            return s;
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not a readable trainer state: " + e.getMessage(), e);
        }
    }
}
