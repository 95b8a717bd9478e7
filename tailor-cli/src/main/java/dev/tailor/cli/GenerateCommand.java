package dev.tailor.cli;

import dev.tailor.generate.GenerationResult;
import dev.tailor.generate.Generator;
import dev.tailor.generate.SamplingParams;
import dev.tailor.model.PretrainedModel;
import dev.tailor.tokenizer.ChatMessage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tailor generate}: streams a completion of a prompt, then a line of prefill and decode speed. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text from a prompt, streaming it to the terminal.")
public final class GenerateCommand implements Callable<Integer> {
    @Mixin
    QuantizeOption quantize;


    @Mixin
    ModelOption model;

    @Mixin
    AdapterOptions adapters;

    @Option(names = {"-p", "--prompt"}, required = true, description = "the prompt (the user message with --chat)")
    String prompt;

    @Option(names = "--chat", description = "wrap the prompt in the model's chat template")
    boolean chat;

    @Option(names = "--system", description = "system message for --chat")
    String system;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "256",
            description = "most tokens to generate (default ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = {"-t", "--temperature"}, defaultValue = "0",
            description = "sampling temperature; 0 = greedy (default ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "keep the k most likely tokens; 0 = off")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "nucleus sampling mass; 1 = off")
    float topP;

    @Option(names = "--min-p", defaultValue = "0", description = "drop tokens below min-p × the top probability")
    float minP;

    @Option(names = "--repetition-penalty", defaultValue = "1", description = "penalty for seen tokens; 1 = off")
    float repetitionPenalty;

    @Option(names = "--presence-penalty", defaultValue = "0",
            description = "subtracted from the logit of every token generated so far, in [-2, 2]; 0 = off")
    float presencePenalty;

    @Option(names = "--frequency-penalty", defaultValue = "0",
            description = "subtracted once per time a token was generated, in [-2, 2]; 0 = off")
    float frequencyPenalty;

    @Option(names = "--logit-bias", paramLabel = "ID=BIAS",
            description = "added to token ID's logit, in [-100, 100] (repeatable), as the OpenAI API's logit_bias")
    Map<Integer, Float> logitBias = new LinkedHashMap<>();

    @Option(names = "--seed", defaultValue = "0", description = "random seed: same seed, same text")
    long seed;

    @Option(names = "--stop", description = "stop string (repeatable); Java escapes like \\n are understood")
    List<String> stops = new ArrayList<>();

    @Option(names = "--stop-token-id", paramLabel = "ID", description = "a token id that ends the text as EOS does "
            + "(repeatable)")
    List<Integer> stopTokenIds = new ArrayList<>();

    @Option(names = "--min-tokens", defaultValue = "0",
            description = "tokens generated before EOS or a stop token id may be (default ${DEFAULT-VALUE})")
    int minTokens;

    @Option(names = "--ignore-eos", description = "keep generating past end-of-sequence tokens")
    boolean ignoreEos;

    @Override
    public Integer call() {
        SamplingParams sampling = new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed,
                presencePenalty, frequencyPenalty, logitBias);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        Path dir = model.resolve();
        try (PretrainedModel pretrained = PretrainedModel.load(dir, quantize.loading())) {
            pretrained.model().prepareProducts();
            Generator generator = new Generator(adapters.apply(pretrained.model(), dir), pretrained.tokenizer(),
                    pretrained.eosIds());
            Generator.Request request = generator.generate()
                    .maxTokens(maxTokens).sampling(sampling)
                    .stop(stops.stream().map(String::translateEscapes).toArray(String[]::new))
                    .stopTokenIds(stopTokenIds.stream().mapToInt(Integer::intValue).toArray())
                    .minTokens(minTokens).ignoreEos(ignoreEos)
                    .onToken(text -> {
                        out.print(text);
                        out.flush();
                    });
            if (chat) {
                List<ChatMessage> messages = new ArrayList<>();
                if (system != null) {
                    messages.add(new ChatMessage("system", system));
                }
                messages.add(new ChatMessage("user", prompt));
                String rendered = pretrained.chatTemplate().render(messages, true, Map.of());
                request.promptIds(pretrained.tokenizer().encode(rendered, false));
            } else {
                request.prompt(prompt);
            }
            GenerationResult r = request.run();
            out.println();
            System.err.printf("prefill: %d tokens, %.1f tokens/s | decode: %d tokens, %.1f tokens/s | finish: %s%n",
                    r.promptTokens(), r.prefillTokensPerSecond(), r.tokenIds().length, r.decodeTokensPerSecond(),
                    r.finishReason().name().toLowerCase());
        }
        return 0;
    }
}
