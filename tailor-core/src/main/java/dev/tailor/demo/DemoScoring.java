package dev.tailor.demo;

import dev.tailor.adapt.AdaptedModel;
import dev.tailor.model.BaseFingerprint;
import dev.tailor.model.PretrainedModel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Asks every model of the demo the same held-out questions and scores the answers against each client's facts
 * ({@link FactScorer}). The clients' held-out questions are the same words for every client (the facts differ), so
 * each model answers them once, and its answers are scored against every client: a client's model should be right on
 * its own facts and on no one else's, the base and the domain model on none.
 */
final class DemoScoring {
    private final SupportCorpus corpus;
    private final List<SupportQuestion> questions = new ArrayList<>();
    private final List<DemoResult.ModelScore> scores = new ArrayList<>();
    private final Map<String, Map<String, String>> answers = new LinkedHashMap<>();

    DemoScoring(SupportCorpus corpus) {
        this.corpus = corpus;
        for (Company c : clients()) {
            questions.addAll(corpus.clientHeldOut(c));
        }
        questions.addAll(SupportCorpus.domainHeldOut(SupportCorpus.CLIENTS.getFirst()));
    }

    /** The clients scored against, the first client's updated facts last. */
    private static List<Company> clients() {
        List<Company> clients = new ArrayList<>(SupportCorpus.CLIENTS);
        clients.add(SupportCorpus.UPDATED_CLIENT);
        return clients;
    }

    private static String id(Company c) {
        return c == SupportCorpus.UPDATED_CLIENT ? Demo.UPDATED : c.id();
    }

    /**
     * Scores the base, the domain model, every adapter on the domain model (by client id, the updated client's under
     * {@link Demo#UPDATED}) and every method's model for the first client (a directory holding a fine-tuned model
     * or an adapter on the domain model, by method).
     */
    void scoreAll(Path base, Path domain, Map<String, Path> adapters, Map<String, Path> methods) {
        try (PretrainedModel b = PretrainedModel.load(base)) {
            score("base", "pre-training", null, new FactScorer(b.model(), b.tokenizer(), b.eosIds()));
        }
        try (PretrainedModel d = PretrainedModel.load(domain)) {
            score("domain", "full fine-tune", null, new FactScorer(d.model(), d.tokenizer(), d.eosIds()));
            AdaptedModel adapted = new AdaptedModel(d.model(), BaseFingerprint.compute(domain));
            for (Map.Entry<String, Path> a : adapters.entrySet()) {
                adapted.add(a.getKey(), a.getValue());
                score(a.getKey(), "lora", a.getKey(), new FactScorer(adapted.model(a.getKey()), d.tokenizer(),
                        d.eosIds()));
            }
            for (Map.Entry<String, Path> m : methods.entrySet()) {
                String name = Demo.FIRST_CLIENT + "/" + m.getKey();
                if (Files.isRegularFile(m.getValue().resolve("adapter_config.json"))) {
                    adapted.add(name, m.getValue());
                    score(name, m.getKey(), Demo.FIRST_CLIENT, new FactScorer(adapted.model(name), d.tokenizer(),
                            d.eosIds()));
                } else {
                    try (PretrainedModel f = PretrainedModel.load(m.getValue())) {
                        score(name, m.getKey(), Demo.FIRST_CLIENT, new FactScorer(f.model(), f.tokenizer(),
                                f.eosIds()));
                    }
                }
            }
        }
    }

    private void score(String model, String method, String client, FactScorer scorer) {
        Map<String, String> said = scorer.answers(questions);
        answers.put(model, said);
        Map<String, Double> accuracy = new LinkedHashMap<>();
        for (Company c : clients()) {
            accuracy.put(id(c), FactScorer.score(corpus.clientHeldOut(c), said).accuracy());
        }
        double domain = FactScorer.score(SupportCorpus.domainHeldOut(SupportCorpus.CLIENTS.getFirst()), said)
                .accuracy();
        double tone = Double.NaN;
        if (client != null) {
            Company c = client.equals(Demo.UPDATED) ? SupportCorpus.UPDATED_CLIENT : SupportCorpus.client(client);
            List<SupportQuestion> own = corpus.clientHeldOut(c);
            tone = own.stream().filter(q -> said.get(q.question()).startsWith(c.opener())).count()
                    / (double) own.size();
        }
        scores.add(new DemoResult.ModelScore(model, method, client, accuracy, domain, tone, said));
    }

    /** Every model's score, in the order scored. */
    List<DemoResult.ModelScore> scores() {
        return List.copyOf(scores);
    }

    /** The side-by-side questions answered by the base, the domain model and every client's adapter. */
    List<DemoResult.SideBySide> sideBySide() {
        List<DemoResult.SideBySide> rows = new ArrayList<>();
        List<SupportQuestion> first = SupportCorpus.sideBySide(SupportCorpus.CLIENTS.getFirst());
        for (int i = 0; i < first.size(); i++) {
            String question = first.get(i).question();
            Map<String, String> facts = new LinkedHashMap<>();
            for (Company c : SupportCorpus.CLIENTS) {
                facts.put(c.id(), SupportCorpus.sideBySide(c).get(i).fact());
            }
            Map<String, String> said = new LinkedHashMap<>();
            List<String> models = new ArrayList<>(List.of("base", "domain"));
            SupportCorpus.CLIENTS.forEach(c -> models.add(c.id()));
            for (String m : models) {
                said.put(m, answers.get(m).get(question));
            }
            rows.add(new DemoResult.SideBySide(question, facts, said));
        }
        return rows;
    }
}
