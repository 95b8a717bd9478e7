package dev.tailor.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The frequent-word tokenizer: what is a token, what is spelt, and that the file it writes loads and round-trips. */
class WordVocabularyTrainerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> CORPUS = List.of(
            "The kettle costs $39. The kettle is blue.",
            "The blender costs $89. The kettle boils.",
            "Kettle and blender, the kettle again.");

    @TempDir
    Path dir;

    private Tokenizer load(ObjectNode tokenizer) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(tokenizer));
        return Tokenizers.load(dir);
    }

    @Test
    void wordsUsedOftenEnoughAreOneTokenAndOthersAreSpeltByteByByte() throws IOException {
        ObjectNode json = new WordVocabularyTrainer(1000, 2, List.of("<s>", "</s>")).train(CORPUS);
        Tokenizer t = load(json);
        int kettle = json.at("/model/vocab/Ġkettle").intValue();
        List<String> tokens = new java.util.ArrayList<>();
        json.at("/model/vocab").fieldNames().forEachRemaining(tokens::add);
        assertEquals(List.of("Ġkettle", "The", "Ġcosts", "Ġ$", "ĠThe", "Ġblender"),
                tokens.subList(2 + 256, tokens.size()),
                "after the specials and the bytes, the words used twice or more by count (kettle 4, then the ones "
                        + "used twice in the order they first came)");
        assertArrayEquals(new int[] {kettle}, t.encode(" kettle", false));
        int[] blue = t.encode(" blue", false);
        assertEquals(5, blue.length, "used once: a space and four letters, " + java.util.Arrays.toString(blue));
        int[] price = t.encode(" $39", false);
        assertEquals(List.of("Ġ$", "3", "9"), java.util.Arrays.stream(price).mapToObj(t::token).toList(),
                "numbers are spelt digit by digit");
        assertFalse(json.at("/model/vocab").has("39"), "no word holding a digit is a token");
    }

    @Test
    void theFileRoundTripsAndPutsTheBosFirst() throws IOException {
        Tokenizer t = load(new WordVocabularyTrainer(300, 1, List.of("<s>", "</s>")).train(CORPUS));
        String text = "The kettle costs $1,249 — café «déjà vu»!\nNew line.";
        int[] ids = t.encode(text, true);
        assertEquals(0, ids[0], "the BOS is the first special token, id 0");
        assertEquals(text, t.decode(java.util.Arrays.copyOfRange(ids, 1, ids.length), false));
        assertArrayEquals(new int[] {1}, t.encode("</s>", false), "special tokens in the text are matched");
        assertTrue(t.vocabSize() <= 300);
    }

    @Test
    void theVocabularyStopsAtItsSize() {
        ObjectNode json = new WordVocabularyTrainer(2 + 256 + 2, 1, List.of("<s>", "</s>")).train(CORPUS);
        assertEquals(260, json.at("/model/vocab").size());
        assertTrue(json.at("/model/vocab").has("Ġkettle") && json.at("/model/vocab").has("The"),
                "the most used word, and the first of those used twice");
    }

    @Test
    void theSameCorpusGivesTheSameFile() {
        WordVocabularyTrainer trainer = new WordVocabularyTrainer(1000, 1, List.of("<s>", "</s>"));
        assertEquals(trainer.train(CORPUS), trainer.train(CORPUS));
    }

    @Test
    void settingsOutOfRangeAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new WordVocabularyTrainer(256, 1, List.of("<s>")));
        assertThrows(IllegalArgumentException.class, () -> new WordVocabularyTrainer(1000, 0, List.of("<s>")));
        assertThrows(IllegalArgumentException.class, () -> new WordVocabularyTrainer(1000, 1, List.of()));
    }
}
