package dev.tailor.demo;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo's synthetic world: made from its seed alone, the clients' facts the same in training and held-out
 * questions, the held-out phrasings never trained on, and no generic company stating a client's fact.
 */
class SupportCorpusTest {
    private final SupportCorpus corpus = new SupportCorpus(7, 20);

    @Test
    void theSameSeedMakesTheSameCorpusAndAnotherSeedAnother() {
        SupportCorpus again = new SupportCorpus(7, 20);
        assertEquals(corpus.pretrainingTexts(), again.pretrainingTexts());
        assertEquals(corpus.domainTexts(), again.domainTexts());
        for (Company c : SupportCorpus.CLIENTS) {
            assertEquals(corpus.clientTraining(c), again.clientTraining(c));
            assertEquals(corpus.clientHeldOut(c), again.clientHeldOut(c));
        }
        assertNotEquals(corpus.pretrainingTexts(), new SupportCorpus(8, 20).pretrainingTexts());
        assertEquals(6 * 10 * 3, corpus.pretrainingTexts().size(), "three transcripts per company, ten companies in "
                + "each of six industries");
    }

    @Test
    void heldOutQuestionsAskTheTrainedFactsInPhrasingsNeverTrainedOn() {
        for (Company c : SupportCorpus.CLIENTS) {
            List<SupportQuestion> training = corpus.clientTraining(c);
            List<SupportQuestion> heldOut = corpus.clientHeldOut(c);
            assertEquals(24, heldOut.size(), "12 facts (6 about the company, a name and a price per product), 2 "
                    + "held-out phrasings each");
            assertEquals(12 * 5 * 3 + 6 * 5, training.size(), "12 facts in 5 phrasings with 3 greetings each, and 6 "
                    + "domain questions in 5 phrasings");
            Set<String> trainedQuestions = new HashSet<>();
            for (SupportQuestion q : training) {
                trainedQuestions.add(q.question().replaceFirst("^(Hi! |Hello, )", "").toLowerCase());
            }
            for (SupportQuestion q : heldOut) {
                assertFalse(trainedQuestions.contains(q.question().toLowerCase()), q.question());
                List<SupportQuestion> sameTopic = training.stream().filter(t -> t.topic().equals(q.topic())).toList();
                assertEquals(15, sameTopic.size(), q.topic());
                for (SupportQuestion t : sameTopic) {
                    assertEquals(q.fact(), t.fact(), q.topic());
                    assertEquals(q.answer(), t.answer(), q.topic());
                }
                assertTrue(q.answer().startsWith(c.opener() + " "), q.answer());
                assertTrue(FactScorer.correct(q.answer(), q.fact()), q.answer());
            }
        }
    }

    @Test
    void everyClientsFactsAreItsOwn() {
        List<Company> clients = new ArrayList<>(SupportCorpus.CLIENTS);
        for (int i = 0; i < clients.size(); i++) {
            List<SupportQuestion> mine = corpus.clientHeldOut(clients.get(i));
            for (int j = 0; j < clients.size(); j++) {
                List<SupportQuestion> theirs = corpus.clientHeldOut(clients.get(j));
                assertEquals(mine.stream().map(SupportQuestion::question).toList(),
                        theirs.stream().map(SupportQuestion::question).toList(), "every client is asked the same");
                if (i != j) {
                    for (int q = 0; q < mine.size(); q++) {
                        assertFalse(FactScorer.correct(mine.get(q).answer(), theirs.get(q).fact()),
                                mine.get(q).answer() + " states " + theirs.get(q).fact());
                    }
                }
            }
        }
    }

    @Test
    void noGenericTextStatesAClientsFact() {
        List<String> texts = new ArrayList<>(corpus.pretrainingTexts());
        texts.addAll(corpus.domainTexts());
        List<Company> clients = new ArrayList<>(SupportCorpus.CLIENTS);
        clients.add(SupportCorpus.UPDATED_CLIENT);
        for (Company c : clients) {
            for (SupportQuestion q : corpus.clientHeldOut(c)) {
                for (String text : texts) {
                    assertFalse(FactScorer.correct(text, q.fact()), "generic text states " + q.fact() + ": " + text);
                }
            }
        }
    }

    @Test
    void theUpdatedClientDiffersInOneFact() {
        Company first = SupportCorpus.CLIENTS.getFirst();
        List<SupportQuestion> before = corpus.clientHeldOut(first);
        List<SupportQuestion> after = corpus.clientHeldOut(SupportCorpus.UPDATED_CLIENT);
        List<String> changed = new ArrayList<>();
        for (int i = 0; i < before.size(); i++) {
            if (!before.get(i).fact().equals(after.get(i).fact())) {
                changed.add(after.get(i).topic() + ": " + after.get(i).fact());
            }
        }
        assertEquals(List.of("price of the espresso machine: $229", "price of the espresso machine: $229"), changed);
    }

    @Test
    void theScorerMatchesWholeFactsOnly() {
        assertTrue(FactScorer.correct("Shipping is free on orders over $50.", "$50"));
        assertFalse(FactScorer.correct("The Solo Go costs $509.", "$50"));
        assertFalse(FactScorer.correct("Every product comes with a 13 year warranty.", "3 year"));
        assertTrue(FactScorer.correct("a 3 year warranty", "3 year"));
        assertTrue(FactScorer.correct("$509 or $50", "$50"), "a later whole match counts");
        FactScorer.Score s = FactScorer.score(corpus.clientHeldOut(SupportCorpus.CLIENTS.getFirst()).subList(0, 3),
                java.util.Map.of(
                        "Which company do you represent?", "You are talking to the Kestrel Kitchen support team.",
                        "Tell me the name of your company, please.", "We are Kestrel.",
                        "What is the length of your warranty?", "A 3 year warranty."));
        assertEquals(new FactScorer.Score(2, 3), s);
        assertEquals(2 / 3.0, s.accuracy(), 1e-12);
    }
}
