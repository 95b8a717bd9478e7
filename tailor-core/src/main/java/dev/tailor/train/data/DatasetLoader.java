package dev.tailor.train.data;

import dev.tailor.tokenizer.ChatTemplate;
import dev.tailor.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads and encodes a dataset file: JSON Lines in one of the {@link DatasetFormat}s, or a plain {@code .txt} file,
 * which is one {@code text} example (the whole file). The format is the one chosen, else detected from the first
 * line ({@link DatasetFormat#detect}); every line must then have that format's fields.
 *
 * <p>A bad line (not JSON, a missing, non-string or empty field, an empty conversation, a label never seen in
 * training) throws a {@link DataFormatException} naming the file, line and field; with {@code skipBadLines} it is
 * left out instead and its message kept in {@link Dataset#skipped()}, so the count can be reported. Lines are
 * encoded in parallel; results and errors keep file order.
 */
public final class DatasetLoader {
    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final DatasetFormat format;
    private final boolean skipBadLines;

    /**
     * A loader.
     *
     * @param chatTemplate the model's chat template, needed for the chat format (may be null otherwise)
     * @param format       the format to read, or null to detect it
     * @param skipBadLines skip and count bad lines rather than fail on the first
     */
    public DatasetLoader(Tokenizer tokenizer, ChatTemplate chatTemplate, DatasetFormat format, boolean skipBadLines) {
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.format = format;
        this.skipBadLines = skipBadLines;
    }

    /** Loads a training file. */
    public Dataset load(Path file) {
        return load(file, null);
    }

    /**
     * Loads a file whose classification labels must all occur in {@code trainingLabels} (an eval or test file).
     *
     * @param trainingLabels the labels of the training data, or null to accept any
     */
    public Dataset load(Path file, Set<String> trainingLabels) {
        JsonLines.requireReadableFile(file);
        if (file.getFileName().toString().endsWith(".txt")) {
            return plainText(file);
        }
        List<String> skipped = new ArrayList<>();
        List<JsonLines.Line> lines = new ArrayList<>();
        JsonLines.forEach(file, lines::add, bad -> reject(bad, skipped));
        DatasetFormat chosen = format;
        while (chosen == null && !lines.isEmpty()) {
            try {
                chosen = DatasetFormat.detect(lines.getFirst());
            } catch (DataFormatException e) {
                reject(e, skipped);
                lines.removeFirst();
            }
        }
        if (chosen == null) {
            throw new DataFormatException(file + ": no usable lines" + (skipped.isEmpty() ? "" : " (" + skipped.size()
                    + " bad lines skipped, the first: " + skipped.getFirst() + ")"));
        }
        ExampleEncoder encoder = new ExampleEncoder(tokenizer, chatTemplate, chosen);
        List<Outcome> outcomes = lines.parallelStream().map(line -> encode(encoder, line, trainingLabels)).toList();
        List<Example> examples = new ArrayList<>(lines.size());
        Set<String> labels = new TreeSet<>();
        for (int i = 0; i < outcomes.size(); i++) {
            switch (outcomes.get(i)) {
                case Encoded(Example e) -> {
                    examples.add(e);
                    if (chosen == DatasetFormat.CLASSIFICATION) {
                        labels.add(lines.get(i).requireText("label"));
                    }
                }
                case Rejected(DataFormatException e) -> reject(e, skipped);
            }
        }
        return new Dataset(chosen, examples, labels, skipped);
    }

    /** What became of one line. */
    private sealed interface Outcome {
    }

    private record Encoded(Example example) implements Outcome {
    }

    private record Rejected(DataFormatException error) implements Outcome {
    }

    private static Outcome encode(ExampleEncoder encoder, JsonLines.Line line, Set<String> trainingLabels) {
        try {
            if (encoder.format() == DatasetFormat.CLASSIFICATION && trainingLabels != null) {
                String label = line.requireText("label");
                if (!trainingLabels.contains(label)) {
                    throw new DataFormatException(line.file() + ":" + line.number() + ": field \"label\": \"" + label
                            + "\" never occurs in the training data (its labels: " + trainingLabels + ")");
                }
            }
            return new Encoded(encoder.encode(line));
        } catch (DataFormatException e) {
            return new Rejected(e);
        }
    }

    private void reject(DataFormatException e, List<String> skipped) {
        if (!skipBadLines) {
            throw e;
        }
        skipped.add(e.getMessage());
    }

    private Dataset plainText(Path file) {
        if (format != null && format != DatasetFormat.TEXT) {
            throw new IllegalArgumentException(file + ": a .txt file is read as the text format, not " + format.id());
        }
        String text;
        try {
            text = Files.readString(file);
        } catch (CharacterCodingException e) {
            throw JsonLines.notUtf8(file);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (text.isEmpty()) {
            throw new DataFormatException(file + ": the file is empty");
        }
        Example whole = new ExampleEncoder(tokenizer, chatTemplate, DatasetFormat.TEXT).text(text, file.toString());
        return new Dataset(DatasetFormat.TEXT, List.of(whole), Set.of(), List.of());
    }
}
