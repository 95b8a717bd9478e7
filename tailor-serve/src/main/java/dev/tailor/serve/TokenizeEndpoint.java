package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.PretrainedModel;

import java.util.Arrays;
import java.util.List;

/**
 * vLLM's {@code POST /tokenize} and {@code POST /detokenize}: a client counts a prompt's tokens, or reads ids back as
 * text, with the served model's own tokenizer and chat template (a view's adapters do not change them; the
 * {@code model} field is resolved all the same, so a caller can tokenize only for a model it may use).
 */
final class TokenizeEndpoint {
    /** The body of {@code /tokenize}: the ids, how many, and the model's context length. */
    record Tokens(List<Integer> tokens, int count, int maxModelLen) {
    }

    /** The body of {@code /detokenize}. */
    record Text(String prompt) {
    }

    private final ServedModels models;

    TokenizeEndpoint(ServedModels models) {
        this.models = models;
    }

    /**
     * {@code {"model", "prompt", "add_special_tokens"?}} (specials added by default, as a completion's prompt gets
     * them) or {@code {"model", "messages"}} (rendered by the chat template with the generation prompt, as a chat's).
     */
    Tokens tokenize(RequestBody body) {
        LlamaModel view = view(body);
        PretrainedModel pretrained = models.pretrained();
        int[] ids;
        if (body.node("messages") != null) {
            ids = Prompts.chat(body, pretrained, body.requiredString("model")).ids();
        } else {
            ids = pretrained.tokenizer().encode(body.requiredString("prompt"), body.bool("add_special_tokens", true));
        }
        return new Tokens(Arrays.stream(ids).boxed().toList(), ids.length, view.contextLength());
    }

    /** {@code {"model", "tokens"}}: the ids decoded, special tokens left out as in a completion's text. */
    Text detokenize(RequestBody body) {
        view(body);
        JsonNode tokens = body.node("tokens");
        if (tokens == null) {
            throw ApiException.badRequest("tokens", "'tokens' is required");
        }
        int[] ids = RequestBody.tokenIds(tokens, "tokens", "tokens", models.pretrained().model().config().vocabSize());
        return new Text(models.pretrained().tokenizer().decode(ids, true));
    }

    private LlamaModel view(RequestBody body) {
        return models.resolve(body.requiredString("model"), Caller.current(), null);
    }
}
