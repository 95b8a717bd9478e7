package dev.tailor.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.io.AtomicFiles;
import dev.tailor.tokenizer.Tokenizer;
import dev.tailor.tokenizer.Tokenizers;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code tailor tokenize}: prints the token ids of a text, or tokenizes a JSON Lines file of {@code {"text": ...}}
 * records into {@code {"text": ..., "ids": [...]}} records.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the token ids of TEXT, or tokenize the \"text\" field of each line of a JSON Lines file.")
public final class TokenizeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ModelOption model;

    @Option(names = "--no-special", description = "Do not add the tokenizer's special tokens (such as BOS).")
    boolean noSpecial;

    @Option(names = "--jsonl", paramLabel = "FILE", description = "JSON Lines input; each line needs a \"text\" field.")
    Path jsonl;

    @Option(names = "--output", paramLabel = "FILE",
            description = "With --jsonl: write the records here (atomically) instead of to standard output.")
    Path output;

    @Parameters(arity = "0..1", paramLabel = "TEXT", description = "The text to tokenize.")
    String text;

    @Override
    public Integer call() throws IOException {
        if ((text == null) == (jsonl == null)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give either TEXT or --jsonl FILE");
        }
        if (output != null && jsonl == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--output needs --jsonl");
        }
        Tokenizer tokenizer = Tokenizers.load(model.resolve());
        if (text != null) {
            String ids = Arrays.stream(tokenizer.encode(text, !noSpecial))
                    .mapToObj(Integer::toString).collect(Collectors.joining(" "));
            spec.commandLine().getOut().println(ids);
            spec.commandLine().getOut().flush();
            return 0;
        }
        if (output == null) {
            Writer out = spec.commandLine().getOut();
            tokenizeLines(tokenizer, out);
            out.flush();
        } else {
            AtomicFiles.write(output, channel -> {
                Writer out = Channels.newWriter(channel, StandardCharsets.UTF_8);
                tokenizeLines(tokenizer, out);
                out.flush();
            });
        }
        return 0;
    }

    private void tokenizeLines(Tokenizer tokenizer, Writer out) throws IOException {
        try (BufferedReader in = Files.newBufferedReader(jsonl, StandardCharsets.UTF_8)) {
            int lineNumber = 0;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                String lineText = textField(line, lineNumber);
                ObjectNode record = Json.MAPPER.createObjectNode();
                record.put("text", lineText);
                ArrayNode ids = record.putArray("ids");
                for (int id : tokenizer.encode(lineText, !noSpecial)) {
                    ids.add(id);
                }
                out.write(Json.MAPPER.writeValueAsString(record));
                out.write('\n');
            }
        }
    }

    private String textField(String line, int lineNumber) {
        JsonNode record;
        try {
            record = Json.MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(jsonl + ":" + lineNumber + ": not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode field = record == null ? null : record.get("text");
        if (field == null || !field.isTextual()) {
            throw new IllegalArgumentException(jsonl + ":" + lineNumber + ": expected an object with a string field"
                    + " \"text\"");
        }
        return field.textValue();
    }
}
