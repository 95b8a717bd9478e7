package dev.tailor.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.PretrainedModel;
import dev.tailor.tensor.DType;
import dev.tailor.train.ModelExport;
import dev.tailor.train.RandomInit;
import dev.tailor.train.FreezePlan;
import dev.tailor.train.TrainOptions;
import dev.tailor.train.TrainingMethod;
import dev.tailor.train.TrainingRun;
import dev.tailor.train.data.DataConfig;
import dev.tailor.train.data.DatasetFormat;
import dev.tailor.train.optim.OptimizerType;
import dev.tailor.train.optim.ScheduleType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scorer on a real model: a tiny Llama of the demo's kind trained from random weights on one client's answers
 * states that client's facts, and the scorer says so; against another client's facts, and for the untrained model,
 * it finds none.
 */
class FactScorerTest {
    @TempDir
    Path dir;

    @Test
    void aModelTrainedOnAClientsAnswersScoresOnItsFactsAndOnNoOneElses() throws Exception {
        Company kestrel = SupportCorpus.CLIENTS.getFirst();
        Company northwind = SupportCorpus.CLIENTS.get(1);
        SupportCorpus corpus = new SupportCorpus(7, 10);
        List<SupportQuestion> questions = firstPhrasings(corpus.clientTraining(kestrel));
        List<SupportQuestion> sameForNorthwind = questions.stream().map(q -> corpus.clientTraining(northwind).stream()
                .filter(n -> n.question().equals(q.question())).findFirst().orElseThrow()).toList();
        assertEquals(12, questions.size());

        List<String> texts = new ArrayList<>(corpus.pretrainingTexts());
        questions.forEach(q -> texts.add(q.transcript()));
        Path tokenizer = dir.resolve("tokenizer");
        int vocab = DemoTokenizer.write(tokenizer, texts, 1024);
        Path config = dir.resolve("config.json");
        DemoFiles.writeJson(config, DemoSettings.QUICK.modelConfig(vocab));
        Path data = dir.resolve("train.jsonl");
        DemoFiles.writeJsonLines(data, questions.stream().map(q -> Map.of("prompt", q.prompt(),
                "completion", q.completion())).toList());
        Path model = dir.resolve("model");
        TrainingRun.run(new TrainingRun.Spec(new TrainingRun.Base.RandomInit(config, tokenizer),
                new DataConfig(data, null, DatasetFormat.COMPLETION, 0, 128, 4, 1, true, false),
                new TrainingMethod.FineTuning("full", FreezePlan.fullFineTuning()),
                new TrainOptions(150, 1, 1, 1e-2, 10, ScheduleType.COSINE, 0, 1, OptimizerType.ADAMW, 0, 0, 1, 50,
                        false), model, null, false), new PrintWriter(Writer.nullWriter()), false);

        try (PretrainedModel trained = PretrainedModel.load(model)) {
            FactScorer scorer = new FactScorer(trained.model(), trained.tokenizer(), trained.eosIds());
            Map<String, String> answers = scorer.answers(questions);
            FactScorer.Score own = FactScorer.score(questions, answers);
            assertTrue(own.right() >= 10, "states its own facts: " + own + " " + answers);
            FactScorer.Score others = FactScorer.score(sameForNorthwind, answers);
            assertEquals(0, others.right(), "states none of another client's facts: " + answers);
        }
        Path random = dir.resolve("random");
        ObjectNode json = (ObjectNode) DemoFiles.JSON.readTree(config.toFile());
        ModelExport.save(random, json, RandomInit.weights(ModelConfig.parse(config, json), 1), DType.F32, tokenizer);
        try (PretrainedModel untrained = PretrainedModel.load(random)) {
            FactScorer scorer = new FactScorer(untrained.model(), untrained.tokenizer(), untrained.eosIds());
            assertEquals(0, FactScorer.score(questions, scorer.answers(questions)).right(),
                    "random weights know nothing");
        }
    }

    /** Each topic's question in its first training phrasing, without a greeting. */
    private static List<SupportQuestion> firstPhrasings(List<SupportQuestion> training) {
        List<SupportQuestion> first = new ArrayList<>();
        for (FactKind kind : FactKind.values()) {
            List<String> categories = kind.perCategory() ? SupportCorpus.KITCHEN : Collections.singletonList(null);
            for (String category : categories) {
                String phrasing = kind.trainingQuestions(category).getFirst();
                first.add(training.stream().filter(q -> q.question().equals(phrasing)).findFirst().orElseThrow());
            }
        }
        return first;
    }
}
