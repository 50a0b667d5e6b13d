package dev.pricer.cli.track;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pricer.track.remote.TrackClient;

/** The JSON that {@code --json} prints: the tracking wire format, indented. */
final class Json {

    static final ObjectMapper MAPPER = TrackClient.JSON.copy().enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {
    }
}
