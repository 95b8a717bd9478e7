package dev.tailor.demo;

import dev.tailor.generate.ContinuousBatcher;
import dev.tailor.generate.Generator;
import dev.tailor.model.LlamaModel;
import dev.tailor.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Asks a model questions and scores its answers against facts: each answer is generated greedily from the question's
 * prompt ({@link SupportQuestion#prompt(String)}) up to the end of the sequence or of the line, and it is right when
 * it states the fact's exact words ({@code $249}, {@code 3 year}; see {@link #correct}).
 */
public final class FactScorer {
    /** The most tokens an answer may take. */
    public static final int MAX_ANSWER_TOKENS = 64;

    private final LlamaModel model;
    private final Generator generator;

    /** A scorer over a network (a base, or a view with adapters), its tokenizer and its end-of-sequence ids. */
    public FactScorer(LlamaModel model, Tokenizer tokenizer, Set<Integer> eosIds) {
        this.model = model;
        this.generator = new Generator(model, tokenizer, eosIds);
    }

    /** The model's answer to {@code question}, trimmed. */
    public String answer(String question) {
        return request(question).run().text().strip();
    }

    private Generator.Request request(String question) {
        return generator.generate().prompt(SupportQuestion.prompt(question)).maxTokens(MAX_ANSWER_TOKENS).stop("\n");
    }

    /**
     * The answers to every distinct question of {@code questions}, by question: generated together in one
     * {@link ContinuousBatcher}, each exactly as {@link #answer} generates it alone.
     */
    public Map<String, String> answers(List<SupportQuestion> questions) {
        List<String> distinct = questions.stream().map(SupportQuestion::question).distinct().toList();
        Map<String, String> answers = new LinkedHashMap<>();
        if (distinct.isEmpty()) {
            return answers;
        }
        try (ContinuousBatcher batcher = new ContinuousBatcher(model, new ContinuousBatcher.Options(distinct.size(),
                Generator.PREFILL_CHUNK * 4, distinct.size()), (sequences, rows, nanos) -> { })) {
            List<ContinuousBatcher.Submission> submitted = new ArrayList<>();
            for (String q : distinct) {
                submitted.add(batcher.submit(request(q)));
            }
            for (int i = 0; i < distinct.size(); i++) {
                answers.put(distinct.get(i), submitted.get(i).result().join().text().strip());
            }
        }
        return answers;
    }

    /**
     * Whether {@code answer} states {@code fact}: holds it with no letter or digit joined on either side, so
     * {@code $50} is not stated by {@code $509} nor {@code 3 year} by {@code 13 year}.
     */
    public static boolean correct(String answer, String fact) {
        for (int at = answer.indexOf(fact); at >= 0; at = answer.indexOf(fact, at + 1)) {
            int end = at + fact.length();
            if ((at == 0 || !Character.isLetterOrDigit(answer.charAt(at - 1)))
                    && (end == answer.length() || !Character.isLetterOrDigit(answer.charAt(end)))) {
                return true;
            }
        }
        return false;
    }

    /**
     * How many of {@code questions} the {@code answers} (by question) get right.
     *
     * @throws IllegalArgumentException when a question has no answer
     */
    public static Score score(List<SupportQuestion> questions, Map<String, String> answers) {
        int right = 0;
        for (SupportQuestion q : questions) {
            String answer = answers.get(q.question());
            if (answer == null) {
                throw new IllegalArgumentException("no answer to \"" + q.question() + "\"");
            }
            if (correct(answer, q.fact())) {
                right++;
            }
        }
        return new Score(right, questions.size());
    }

    /**
     * A count of right answers.
     *
     * @param right how many were right
     * @param total how many were asked
     */
    public record Score(int right, int total) {
        /** The share right, in [0, 1]; 0 when nothing was asked. */
        public double accuracy() {
            return total == 0 ? 0 : (double) right / total;
        }
    }
}
