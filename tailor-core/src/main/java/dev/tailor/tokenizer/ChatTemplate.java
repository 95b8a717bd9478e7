package dev.tailor.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import jinjava.javax.el.CompositeELResolver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A model's chat template: the Jinja program in {@code tokenizer_config.json} that turns a conversation into the
 * prompt text the model was trained on. Rendered with Jinjava set up as Hugging Face sets up jinja2
 * ({@code trim_blocks}, {@code lstrip_blocks}, {@code raise_exception}, {@code tojson} as Python's
 * {@code json.dumps}, {@code strftime_now}) plus the Python string methods templates call
 * ({@code .strip()}, {@code .startswith()}, {@code .split()}, …). The engine is built once per template;
 * {@link #render} may be called from several threads.
 */
public final class ChatTemplate {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> SPECIAL_TOKEN_KEYS = List.of("bos_token", "eos_token", "pad_token",
            "unk_token", "sep_token", "cls_token", "mask_token", "additional_special_tokens");

    private final String source;
    private final String template;
    private final String parsedText;
    private final Map<String, Object> specialTokens;
    private final Jinjava jinjava;

    private ChatTemplate(String source, String template, Map<String, Object> specialTokens, Clock clock) {
        this.source = source;
        this.template = template;
        this.parsedText = TemplateRewrites.apply(template);
        this.specialTokens = specialTokens;
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonMethodResolver());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(resolver)
                .withDateTimeProvider(clock::millis)
                .withTimeZone(clock.getZone())
                .withNestedInterpretationEnabled(false)
                .withInterperterFactory(PythonValues.FACTORY)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseNaturalOperatorPrecedence(true)
                        .withUseTrimmingForNotesAndExpressions(true)
                        .build())
                .build();
        this.jinjava = new Jinjava(config);
        jinjava.getGlobalContext().registerFunction(TemplateFunctions.RAISE_EXCEPTION);
        jinjava.getGlobalContext().registerFunction(TemplateFunctions.STRFTIME_NOW);
        jinjava.getGlobalContext().registerFilter(new TemplateFunctions.ToJson());
        jinjava.getGlobalContext().registerFilter(new TemplateFunctions.Trim());
    }

    /**
     * Loads the chat template of a model directory with the system clock; see {@link #load(Path, Clock)}.
     *
     * @throws ChatTemplateException naming the file when there is no template
     */
    public static ChatTemplate load(Path tokenizerConfigDir) {
        return load(tokenizerConfigDir, Clock.systemDefaultZone());
    }

    /**
     * Loads the chat template of a model directory: {@code chat_template} of {@code tokenizer_config.json} (a
     * string, or a list of {@code {name, template}} from which "default" is taken), else the file
     * {@code chat_template.jinja} that newer checkpoints ship. Special tokens ({@code bos_token},
     * {@code eos_token}, …) come from {@code tokenizer_config.json}.
     *
     * @param clock the time {@code strftime_now} reports (fixed in tests)
     * @throws ChatTemplateException naming the file when it is missing, unreadable or has no template
     */
    public static ChatTemplate load(Path tokenizerConfigDir, Clock clock) {
        Path configFile = tokenizerConfigDir.resolve("tokenizer_config.json");
        Path jinjaFile = tokenizerConfigDir.resolve("chat_template.jinja");
        JsonNode config = JSON.createObjectNode();
        if (Files.exists(configFile)) {
            try {
                config = JSON.readTree(configFile.toFile());
            } catch (IOException e) {
                throw new ChatTemplateException("cannot read " + configFile + ": " + e.getMessage(), e);
            }
        }
        Map<String, Object> specialTokens = specialTokens(config, configFile);
        JsonNode node = config.get("chat_template");
        if (node != null && !node.isNull()) {
            return new ChatTemplate(configFile.toString(), templateText(node, configFile), specialTokens, clock);
        }
        if (Files.exists(jinjaFile)) {
            try {
                return new ChatTemplate(jinjaFile.toString(), Files.readString(jinjaFile), specialTokens, clock);
            } catch (IOException e) {
                throw new ChatTemplateException("cannot read " + jinjaFile + ": " + e.getMessage(), e);
            }
        }
        throw new ChatTemplateException("no chat template: " + configFile
                + (Files.exists(configFile) ? " has no \"chat_template\"" : " does not exist")
                + " and there is no " + jinjaFile);
    }

    /**
     * A template given as text.
     *
     * @param source        names the template in error messages (e.g. the file it came from)
     * @param specialTokens variables such as {@code bos_token} and {@code eos_token}
     */
    public static ChatTemplate of(String source, String template, Map<String, Object> specialTokens, Clock clock) {
        return new ChatTemplate(Objects.requireNonNull(source), Objects.requireNonNull(template),
                new LinkedHashMap<>(specialTokens), Objects.requireNonNull(clock));
    }

    /** The template text. */
    public String template() {
        return template;
    }

    /**
     * Renders a conversation.
     *
     * @param addGenerationPrompt end with the header of an assistant turn, so the model writes the reply
     * @param extra               further variables, passed through and overriding the defaults: {@code tools}
     *                            (a list of JSON-schema maps), {@code documents}, {@code enable_thinking}, …
     * @throws ChatTemplateException with the template's message when it calls {@code raise_exception}, or
     *                               naming the template and line when rendering fails
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
        Map<String, Object> bindings = new LinkedHashMap<>(specialTokens);
        List<Map<String, Object>> messageValues = new ArrayList<>(messages.size());
        messages.forEach(m -> messageValues.add(m.toTemplateValue()));
        bindings.put("messages", messageValues);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        bindings.put("tools", null);
        bindings.put("documents", null);
        bindings.putAll(extra);
        RenderResult result = jinjava.renderForResult(parsedText, bindings);
        for (TemplateError error : result.getErrors()) {
            for (Throwable t = error.getException(); t != null; t = t.getCause()) {
                if (t instanceof TemplateFunctions.RaisedByTemplate raised) {
                    throw new ChatTemplateException(raised.getMessage());
                }
            }
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new ChatTemplateException("chat template of " + source + " failed at line "
                        + error.getLineno() + ": " + error.getMessage(), error.getException());
            }
        }
        return result.getOutput();
    }

    private static String templateText(JsonNode node, Path configFile) {
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isArray()) {
            List<String> names = new ArrayList<>();
            for (JsonNode entry : node) {
                String name = entry.path("name").asText();
                names.add(name);
                if (name.equals("default") && entry.path("template").isTextual()) {
                    return entry.get("template").asText();
                }
            }
            throw new ChatTemplateException(configFile + ": \"chat_template\" lists templates " + names
                    + " but none named \"default\"");
        }
        throw new ChatTemplateException(configFile + ": \"chat_template\" must be a string or a list of "
                + "{name, template}, got " + node.getNodeType());
    }

    /** {@code bos_token} etc. as strings; older configs store them as {@code {"content": ...}} objects. */
    private static Map<String, Object> specialTokens(JsonNode config, Path configFile) {
        Map<String, Object> tokens = new LinkedHashMap<>();
        for (String key : SPECIAL_TOKEN_KEYS) {
            JsonNode value = config.get(key);
            if (value == null) {
                continue;
            }
            if (value.isArray()) {
                List<String> list = new ArrayList<>();
                value.forEach(v -> list.add(tokenText(v, key, configFile)));
                tokens.put(key, list);
            } else {
                tokens.put(key, tokenText(value, key, configFile));
            }
        }
        return tokens;
    }

    private static String tokenText(JsonNode value, String key, Path configFile) {
        if (value.isNull()) {
            return null;
        }
        if (value.isTextual()) {
            return value.asText();
        }
        if (value.isObject() && value.path("content").isTextual()) {
            return value.get("content").asText();
        }
        throw new ChatTemplateException(configFile + ": \"" + key + "\" must be a string, null or "
                + "{\"content\": ...}, got " + value);
    }
}
