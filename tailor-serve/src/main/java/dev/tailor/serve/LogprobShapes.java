package dev.tailor.serve;

import dev.tailor.generate.TokenLogprob;
import dev.tailor.serve.OpenAiShapes.ChatLogprobs;
import dev.tailor.serve.OpenAiShapes.ChatTokenLogprob;
import dev.tailor.serve.OpenAiShapes.CompletionLogprobs;
import dev.tailor.serve.OpenAiShapes.TopLogprob;
import dev.tailor.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Token log-probabilities in the shapes OpenAI answers them: chat's {@code logprobs.content} list and the legacy
 * completions' parallel lists. A token is shown as the text it decodes to alone, with its UTF-8 bytes in chat.
 */
final class LogprobShapes {
    private final Tokenizer tokenizer;

    LogprobShapes(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Chat's {@code logprobs} for {@code tokens}, or null when there are none. */
    ChatLogprobs chat(List<TokenLogprob> tokens) {
        if (tokens.isEmpty()) {
            return null;
        }
        List<ChatTokenLogprob> content = new ArrayList<>();
        for (TokenLogprob t : tokens) {
            List<TopLogprob> top = new ArrayList<>();
            for (int j = 0; j < t.topIds().length; j++) {
                String text = text(t.topIds()[j]);
                top.add(new TopLogprob(text, t.topLogprobs()[j], bytes(text)));
            }
            String text = text(t.tokenId());
            content.add(new ChatTokenLogprob(text, t.logprob(), bytes(text), top));
        }
        return new ChatLogprobs(content);
    }

    /**
     * The completions endpoint's {@code logprobs} for {@code tokens}, whose text starts at {@code offset} characters
     * into the answer, or null when there are none. An unscored token (an echoed prompt's first) has a null
     * log-probability and null alternatives, as OpenAI answers it.
     */
    CompletionLogprobs completion(List<TokenLogprob> tokens, int offset) {
        if (tokens.isEmpty()) {
            return null;
        }
        List<String> texts = new ArrayList<>();
        List<Float> logprobs = new ArrayList<>();
        List<Map<String, Float>> tops = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>();
        int at = offset;
        for (TokenLogprob t : tokens) {
            String text = text(t.tokenId());
            texts.add(text);
            logprobs.add(t.scored() ? t.logprob() : null);
            Map<String, Float> top = new LinkedHashMap<>();
            for (int j = 0; j < t.topIds().length; j++) {
                top.putIfAbsent(text(t.topIds()[j]), t.topLogprobs()[j]);
            }
            tops.add(t.scored() ? top : null);
            offsets.add(at);
            at += text.length();
        }
        return new CompletionLogprobs(texts, logprobs, tops, offsets);
    }

    /**
     * The completions endpoint's {@code logprobs} for an echoed prompt's tokens (whose text starts the answer) and
     * the generated ones after it, whose text starts at {@code generatedOffset}; null when there are none.
     */
    CompletionLogprobs completion(List<TokenLogprob> prompt, List<TokenLogprob> generated, int generatedOffset) {
        CompletionLogprobs first = completion(prompt, 0);
        CompletionLogprobs then = completion(generated, generatedOffset);
        if (first == null || then == null) {
            return first == null ? then : first;
        }
        return new CompletionLogprobs(concat(first.tokens(), then.tokens()),
                concat(first.tokenLogprobs(), then.tokenLogprobs()), concat(first.topLogprobs(), then.topLogprobs()),
                concat(first.textOffset(), then.textOffset()));
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private String text(int id) {
        return tokenizer.decode(new int[] {id}, false);
    }

    private static List<Integer> bytes(String text) {
        List<Integer> out = new ArrayList<>();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            out.add(b & 0xff);
        }
        return out;
    }
}
