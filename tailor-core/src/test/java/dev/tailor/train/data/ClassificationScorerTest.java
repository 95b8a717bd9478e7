package dev.tailor.train.data;

import dev.tailor.Shared;
import dev.tailor.tokenizer.Tokenizer;
import dev.tailor.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static dev.tailor.train.data.ExampleEncoderTest.line;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Likelihood classification with a stand-in model whose scores are known. */
class ClassificationScorerTest {

    @Test
    void picksTheMostLikelyLabelAndCountsAccuracy() throws Exception {
        Tokenizer tokenizer = Tokenizers.load(Shared.require("models/tiny-llama"));
        ExampleEncoder encoder = new ExampleEncoder(tokenizer, null, DatasetFormat.CLASSIFICATION);
        ClassificationScorer scorer = new ClassificationScorer(encoder, Set.of("spam", "ham"));
        assertEquals(List.of("ham", "spam"), scorer.labels());
        int[] hamIds = encoder.completionIds("ham");
        assertArrayEquals(new int[] {16366, 2}, hamIds);

        // a "model" that prefers spam when the prompt mentions money, and checks what it is asked
        int[] moneyPrompt = encoder.classificationPromptIds("Win money now");
        ClassificationScorer.LogLikelihood model = (prompt, completion) -> {
            boolean money = Arrays.equals(prompt, moneyPrompt);
            boolean ham = Arrays.equals(completion, hamIds);
            return ham == money ? -5.0 : -1.0;
        };
        assertEquals("spam", scorer.predict("Win money now", model));
        assertEquals("ham", scorer.predict("Lunch at noon?", model));

        List<Example> examples = List.of(
                encoder.encode(line(1, "{\"text\": \"Win money now\", \"label\": \"spam\"}")),
                encoder.encode(line(2, "{\"text\": \"Lunch at noon?\", \"label\": \"ham\"}")),
                encoder.encode(line(3, "{\"text\": \"Lunch at noon?\", \"label\": \"spam\"}")));
        ClassificationScorer.Accuracy accuracy = scorer.accuracy(examples, model);
        assertEquals(new ClassificationScorer.Accuracy(2, 3), accuracy);
        assertEquals(2.0 / 3, accuracy.fraction(), 1e-12);

        assertEquals("ham", scorer.predict("x", (p, c) -> 0.0), "ties go to the first label in order");
        assertThrows(IllegalArgumentException.class, () -> new ClassificationScorer(
                new ExampleEncoder(tokenizer, null, DatasetFormat.TEXT), Set.of("a")));
    }
}
