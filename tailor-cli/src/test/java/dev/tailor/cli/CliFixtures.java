package dev.tailor.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Training data the CLI tests share. */
final class CliFixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private CliFixtures() {
    }

    /** Writes {@code dir/moby.jsonl}: 40 {@code text} lines of 600 characters of Moby-Dick. */
    static Path mobyDick(Path dir) throws IOException {
        Path data = dir.resolve("moby.jsonl");
        List<String> lines = new ArrayList<>();
        String novel = Files.readString(Shared.require("data/moby-dick.txt"), StandardCharsets.UTF_8);
        for (int i = 0; i < 40; i++) {
            lines.add(JSON.writeValueAsString(JSON.createObjectNode()
                    .put("text", novel.substring(20_000 + i * 600, 20_000 + i * 600 + 600))));
        }
        Files.write(data, lines);
        return data;
    }
}
