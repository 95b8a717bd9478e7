package dev.tailor.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import dev.tailor.io.TensorFormatException;
import dev.tailor.io.gguf.GgufFile;
import jinjava.javax.el.CompositeELResolver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A model's chat template: the Jinja program in {@code tokenizer_config.json} that turns a conversation into the
 * prompt text the model was trained on. Rendered with Jinjava set up as Hugging Face sets up jinja2
 * ({@code trim_blocks}, {@code lstrip_blocks}, {@code raise_exception}, {@code tojson} as Python's
 * {@code json.dumps}, {@code strftime_now}) plus the Python string methods templates call
 * ({@code .strip()}, {@code .startswith()}, {@code .split()}, …). The engine is built once per template;
 * {@link #render} may be called from several threads.
 * <p>
 * Templates come from whoever supplied the model, so they run sandboxed ({@link TemplateSandbox}: the Jinja that
 * Hugging Face's templates use, no Java method calls, no includes) and bounded ({@link Limits}: a time and an output
 * budget per render). A template that breaks a rule fails with a {@link ChatTemplateException} naming it.
 */
public final class ChatTemplate {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<Context.Library, Set<String>> DISABLED = TemplateSandbox.disabled();
    private static final List<String> SPECIAL_TOKEN_KEYS = List.of("bos_token", "eos_token", "pad_token",
            "unk_token", "sep_token", "cls_token", "mask_token", "additional_special_tokens");

    private final String source;
    private final String template;
    private final String parsedText;
    private final Map<String, Object> specialTokens;
    private final Clock clock;
    private final Limits limits;
    private final Jinjava jinjava;

    private ChatTemplate(String source, String template, Map<String, Object> specialTokens, Clock clock,
                         Limits limits) {
        this.source = source;
        this.template = template;
        try {
            this.parsedText = TemplateRewrites.apply(template);
        } catch (ChatTemplateException e) {
            throw new ChatTemplateException("chat template of " + source + " " + e.getMessage());
        }
        this.specialTokens = specialTokens;
        this.clock = clock;
        this.limits = limits;
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new TemplateSandbox.Guard());
        resolver.add(new PythonMethodResolver());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(resolver)
                .withDateTimeProvider(clock::millis)
                .withTimeZone(clock.getZone())
                .withNestedInterpretationEnabled(false)
                .withInterperterFactory(TemplateSandbox.INTERPRETERS)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseNaturalOperatorPrecedence(true)
                        .withUseTrimmingForNotesAndExpressions(true)
                        .build())
                .withDisabled(DISABLED)
                .withNodePreProcessor(TemplateSandbox.NODE_CHECK)
                .withMaxOutputSize(limits.maxOutputChars())
                .withMaxStringLength(limits.maxOutputChars())
                .withMaxListSize(TemplateSandbox.MAX_ITEMS)
                .withMaxMapSize(TemplateSandbox.MAX_ITEMS)
                .withEnableRecursiveMacroCalls(true)
                .withMaxMacroRecursionDepth(TemplateSandbox.MAX_MACRO_DEPTH)
                .build();
        this.jinjava = new Jinjava(config);
        jinjava.setResourceLocator(TemplateSandbox.NO_RESOURCES);
        jinjava.getGlobalContext().registerFunction(TemplateFunctions.RAISE_EXCEPTION);
        jinjava.getGlobalContext().registerFunction(TemplateFunctions.STRFTIME_NOW);
        jinjava.getGlobalContext().registerFilter(new TemplateFunctions.ToJson());
        jinjava.getGlobalContext().registerFilter(new TemplateFunctions.Trim());
        jinjava.getGlobalContext().registerFilter(new TemplateFunctions.Replace());
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
        if (GgufFile.isGguf(tokenizerConfigDir)) {
            return loadGguf(tokenizerConfigDir, clock);
        }
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
            return new ChatTemplate(configFile.toString(), templateText(node, configFile), specialTokens, clock,
                    Limits.fromSystemProperties());
        }
        if (Files.exists(jinjaFile)) {
            try {
                return new ChatTemplate(jinjaFile.toString(), Files.readString(jinjaFile), specialTokens, clock,
                        Limits.fromSystemProperties());
            } catch (IOException e) {
                throw new ChatTemplateException("cannot read " + jinjaFile + ": " + e.getMessage(), e);
            }
        }
        throw new ChatTemplateException("no chat template: " + configFile
                + (Files.exists(configFile) ? " has no \"chat_template\"" : " does not exist")
                + " and there is no " + jinjaFile);
    }

    /**
     * The template of a GGUF file: {@code tokenizer.chat_template}, with its special tokens from
     * {@code tokenizer.ggml.*}.
     */
    private static ChatTemplate loadGguf(Path path, Clock clock) {
        try (GgufFile file = GgufFile.open(path)) {
            if (!file.metadata().has("tokenizer.chat_template")) {
                throw new ChatTemplateException("no chat template: " + path + " has no tokenizer.chat_template");
            }
            return new ChatTemplate(path + " (tokenizer.chat_template)", file.metadata().string(
                    "tokenizer.chat_template"), GgufVocabulary.specialTokens(file), clock, Limits.fromSystemProperties());
        } catch (TensorFormatException | TokenizerException e) {
            throw new ChatTemplateException(e.getMessage(), e);
        }
    }

    /**
     * A template given as text, with the limits of {@link Limits#fromSystemProperties}.
     *
     * @param source        names the template in error messages (e.g. the file it came from)
     * @param specialTokens variables such as {@code bos_token} and {@code eos_token}
     */
    public static ChatTemplate of(String source, String template, Map<String, Object> specialTokens, Clock clock) {
        return new ChatTemplate(Objects.requireNonNull(source), Objects.requireNonNull(template),
                new LinkedHashMap<>(specialTokens), Objects.requireNonNull(clock), Limits.fromSystemProperties());
    }

    /** The same template rendering within other limits. */
    public ChatTemplate withLimits(Limits limits) {
        return new ChatTemplate(source, template, specialTokens, clock, Objects.requireNonNull(limits));
    }

    /** The template text. */
    public String template() {
        return template;
    }

    /** The limits each render stays within. */
    public Limits limits() {
        return limits;
    }

    /**
     * Renders a conversation.
     *
     * @param addGenerationPrompt end with the header of an assistant turn, so the model writes the reply
     * @param extra               further variables, passed through and overriding the defaults: {@code tools}
     *                            (a list of JSON-schema maps), {@code documents}, {@code enable_thinking}, …
     * @throws ChatTemplateException with the template's message when it calls {@code raise_exception}, naming the
     *                               limit when the render runs out of time or output or the template does what
     *                               the sandbox refuses, or naming the template and line when rendering fails
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
        RenderResult result;
        try (RenderBudget budget = RenderBudget.start(limits)) {
            try {
                result = jinjava.renderForResult(parsedText, bindings);
            } catch (RenderBudget.Violation violation) {
                throw refused(violation);
            } catch (StackOverflowError e) {
                throw new ChatTemplateException("chat template of " + source + " nests too deeply to render");
            }
            if (budget.violation() != null) {
                throw refused(budget.violation());
            }
        }
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

    private ChatTemplateException refused(RenderBudget.Violation violation) {
        return new ChatTemplateException("chat template of " + source + " " + violation.getMessage());
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

    /**
     * What one render may spend. A template that runs out fails with a {@link ChatTemplateException} naming the
     * limit; real templates stay orders of magnitude below the defaults, which
     * {@code -Dtailor.template.time-budget-ms} and {@code -Dtailor.template.max-output-chars} change.
     *
     * @param timeBudget     wall time of one render (default 5 s)
     * @param maxOutputChars the longest prompt a render may produce, and the longest string it may build on the way,
     *                       in characters (default 8 Mi, 8,388,608)
     */
    public record Limits(Duration timeBudget, long maxOutputChars) {
        /** The system property that sets the time budget, in milliseconds. */
        public static final String TIME_BUDGET_PROPERTY = "tailor.template.time-budget-ms";
        /** The system property that sets the output budget, in characters. */
        public static final String MAX_OUTPUT_PROPERTY = "tailor.template.max-output-chars";
        /** 5 s and 8 Mi characters. */
        public static final Limits DEFAULT = new Limits(Duration.ofSeconds(5), 8L << 20);

        /** Checks that both limits are positive. */
        public Limits {
            if (timeBudget.isNegative() || timeBudget.isZero() || maxOutputChars <= 0) {
                throw new IllegalArgumentException("chat template limits must be positive, got " + timeBudget
                        + " and " + maxOutputChars + " characters");
            }
        }

        /**
         * The defaults, changed by the system properties {@value #TIME_BUDGET_PROPERTY} and
         * {@value #MAX_OUTPUT_PROPERTY} where set.
         *
         * @throws ChatTemplateException naming the property when its value is not a positive whole number
         */
        public static Limits fromSystemProperties() {
            return new Limits(Duration.ofMillis(property(TIME_BUDGET_PROPERTY, DEFAULT.timeBudget.toMillis())),
                    property(MAX_OUTPUT_PROPERTY, DEFAULT.maxOutputChars));
        }

        private static long property(String name, long fallback) {
            String value = System.getProperty(name);
            if (value == null || value.isBlank()) {
                return fallback;
            }
            long parsed;
            try {
                parsed = Long.parseLong(value.strip());
            } catch (NumberFormatException e) {
                parsed = 0;
            }
            if (parsed > 0) {
                return parsed;
            }
            throw new ChatTemplateException("-D" + name + " must be a positive whole number, got '" + value + "'");
        }
    }
}
