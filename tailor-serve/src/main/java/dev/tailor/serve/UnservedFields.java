package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Fields of the OpenAI API, and vLLM's extensions of it, that this server does not serve. Client libraries often
 * send them with their neutral values ({@code "best_of": 1}, {@code "tools": []}, {@code "response_format":
 * {"type": "text"}}), which are accepted; any other value is refused with a 400 naming the field, because answering
 * as if it had not been sent would give the client something other than what it asked for without telling it.
 */
final class UnservedFields {
    private UnservedFields() {
    }

    /** Refuses (400) the first unserved field of {@code body} (a chat request's when {@code chat}) asking for more. */
    static void refuse(RequestBody body, boolean chat) {
        JsonNode bestOf = body.node("best_of");
        JsonNode n = body.node("n");
        long choices = n != null && n.isIntegralNumber() ? n.asLong() : 1;
        if (bestOf != null && !bestOf.isNull() && !(bestOf.isIntegralNumber() && bestOf.asLong() == choices)) {
            throw ApiException.badRequest("best_of", "'best_of' must be 'n' (every candidate is returned), got "
                    + bestOf);
        }
        JsonNode suffix = body.node("suffix");
        if (suffix != null && !suffix.isNull() && !(suffix.isTextual() && suffix.asText().isEmpty())) {
            throw ApiException.badRequest("suffix", "'suffix' (text after the completion) is not served");
        }
        JsonNode format = body.node("response_format");
        if (format != null && !format.isNull() && !"text".equals(format.path("type").asText())) {
            throw ApiException.badRequest("response_format", "only 'response_format' {\"type\": \"text\"} is "
                    + "served; structured output (JSON mode, JSON schema) is not");
        }
        for (String tools : new String[] {"tools", "functions"}) {
            JsonNode node = body.node(tools);
            if (node != null && !node.isNull() && !(node.isArray() && node.isEmpty())) {
                throw ApiException.badRequest(tools, "'" + tools + "' (tool calling) is not served");
            }
        }
        for (String choice : new String[] {"tool_choice", "function_call"}) {
            JsonNode node = body.node(choice);
            boolean none = node == null || node.isNull()
                    || node.isTextual() && (node.asText().equals("none") || node.asText().equals("auto"));
            if (!none) {
                throw ApiException.badRequest(choice, "'" + choice + "' must be \"none\" or \"auto\": tool calling "
                        + "is not served");
            }
        }
        for (String vllm : new String[] {"guided_json", "guided_regex", "guided_choice", "guided_grammar",
                "structured_outputs", "allowed_token_ids", "bad_words", "prompt_logprobs", "logits_processors",
                "truncate_prompt_tokens"}) {
            JsonNode node = body.node(vllm);
            if (node != null && !node.isNull() && !(node.isArray() && node.isEmpty())) {
                throw ApiException.badRequest(vllm, "vLLM's '" + vllm + "' is not served");
            }
        }
        for (String flag : new String[] {"use_beam_search", "include_stop_str_in_output"}) {
            if (body.bool(flag, false)) {
                throw ApiException.badRequest(flag, "vLLM's '" + flag + "' is not served");
            }
        }
        if (!body.bool("skip_special_tokens", true)) {
            throw ApiException.badRequest("skip_special_tokens", "special tokens are always left out of the text");
        }
        if (chat && body.bool("echo", false)) {
            throw ApiException.badRequest("echo", "'echo' is a field of /v1/completions");
        }
    }
}
