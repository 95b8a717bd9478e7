package dev.tailor.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * The commands' JSON mappers, made when a command first reads or writes JSON. Building the command line constructs
 * every subcommand, so a mapper in a command's own static field was made at every start: Jackson's data binding
 * (about 500 classes, ~15 MB resident) loaded into commands that never touch JSON, such as decoding a GGUF model.
 */
final class Json {
    /** Compact output; reads any JSON. */
    static final ObjectMapper MAPPER = new ObjectMapper();
    /** Indented output. */
    static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {
    }
}
