package dev.tailor.bench.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.adapt.AdapterBase;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.adapt.AdapterMethod;
import dev.tailor.adapt.AdapterMethods;
import dev.tailor.adapt.MethodOption;
import dev.tailor.adapt.MethodOptions;
import dev.tailor.bench.BenchShape;
import dev.tailor.bench.RandomModel;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.TensorFormatException;
import dev.tailor.io.TensorInfo;
import dev.tailor.model.ConfigException;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.site.LinearSite;
import dev.tailor.tensor.DType;
import dev.tailor.tokenizer.BpeTokenizer;
import dev.tailor.tokenizer.ChatMessage;
import dev.tailor.tokenizer.ChatTemplate;
import dev.tailor.tokenizer.ChatTemplateException;
import dev.tailor.tokenizer.TokenizerException;
import dev.tailor.tokenizer.Tokenizers;
import dev.tailor.train.data.DataFormatException;
import dev.tailor.train.data.DatasetFormat;
import dev.tailor.train.data.DatasetLoader;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * The fuzz targets: each loader or check that reads what a user hands Tailor, with the refusal it documents.
 *
 * <ul>
 *   <li>{@code model-config}: a mutated {@code config.json} through {@link ModelConfig#load}: a config with positive
 *       widths, or a {@link ConfigException} naming the file.</li>
 *   <li>{@code tokenizer}: a mutated {@code tokenizer.json} (and sometimes {@code tokenizer_config.json}) through
 *       {@link Tokenizers#load}: a {@link TokenizerException} naming the file, or a tokenizer that encodes random
 *       text and decodes what it encoded.</li>
 *   <li>{@code safetensors}: a small file with its header mutated (JSON, dtypes, shapes, offsets, length prefix) or
 *       its bytes damaged, through {@link SafetensorsFile#open} and reading every tensor: a
 *       {@link TensorFormatException} naming the file.</li>
 *   <li>{@code adapter-config}: an adapter of every registered method saved, its {@code adapter_config.json}
 *       mutated, through {@link AdapterFiles#load}: an {@link IllegalArgumentException} or
 *       {@link TensorFormatException} naming the file.</li>
 *   <li>{@code method-options}: random values for options of every registered method through
 *       {@link MethodOptions#of} and {@link AdapterMethod#create} on a tiny random base: an adapter, or an
 *       {@link IllegalArgumentException} (such as {@code InvalidOptionException}) naming the option.</li>
 *   <li>{@code jsonl}: mutated and random lines through {@link DatasetLoader#load}: a
 *       {@link DataFormatException} naming the file.</li>
 *   <li>{@code chat-template}: templates pieced together from Jinja syntax, rendered: text or a
 *       {@link ChatTemplateException}.</li>
 *   <li>{@code gguf}: a tiny model's GGUF files damaged or with a number overwritten, loaded and run
 *       ({@link GgufTarget}).</li>
 *   <li>{@code checkpoint}: a training checkpoint with a file damaged, missing or its trainer state mutated,
 *       resumed ({@link CheckpointTarget}).</li>
 * </ul>
 */
public final class Targets {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-01-02T03:04:05Z"), ZoneOffset.UTC);
    private static final List<String> DTYPES = Stream.concat(Arrays.stream(DType.values()).map(DType::name),
            Stream.of("F8_E4M3", "U64", "f32", "")).toList();
    private static final List<String> TOKENIZER_NAMES = List.of("BPE", "WordPiece", "Unigram", "Sequence", "NFC",
            "NFKD", "Lowercase", "Prepend", "Replace", "Split", "ByteLevel", "Metaspace", "ByteFallback", "Fuse",
            "Strip", "TemplateProcessing", "Isolated", "Removed", "MergedWithNext", "always", "first", "never",
            "<s>", "</s>", "<unk>", "<|endoftext|>", "h", "he", "\u2581", "Regex", "String");
    private static final List<String> MODULES = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
            "up_proj", "down_proj", "all-linear", "lm_head", "embed_tokens", ".*", "(", "layers.0.self_attn.q_proj",
            "model.layers.1.mlp.up_proj", "");
    private static final List<String> TEMPLATE_PIECES = List.of("{% for m in messages %}", "{% endfor %}",
            "{{ m['content'] }}", "{{ m['role'] }}", "{% if add_generation_prompt %}", "{% else %}", "{% endif %}",
            "{% if m['role'] == 'user' %}", "{{ bos_token }}", "{{ eos_token }}", "<|im_start|>", "<|im_end|>\n",
            "{{ raise_exception('refused') }}", "{% set n = namespace(x=1) %}", "{% set n.x = n.x * 2 %}",
            "{{ messages[0]['content'] | trim }}", "{{ messages[99]['content'] }}", "{{ messages | tojson }}",
            "{{ strftime_now('%Y-%m-%d') }}", "{{ m.content.split('a') | length }}", "{{ 1 / 0 }}",
            "{{ '%d' % 'x' }}", "{{ range(5) | list }}", "{% for i in range(1000000000) %}x{% endfor %}",
            "{{ 'ab' * 100000000 }}", "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "{{ x.y.z }}",
            "{{ none.attr }}", "{% generation %}", "{% endgeneration %}", "{%", "}}", "{{", "{#", "#}", "{% raw %}",
            "{{ tools | length }}", "{{ m['content'][::-1] }}", "{{ m['content'][1000000000:] }}",
            "{{ (messages | first)['content'] }}", "{% for k, v in m.items() %}{{ k }}{% endfor %}", "\n", " ");
    private static final List<String> ROLES = List.of("system", "user", "assistant", "tool", "", "USER");
    private static final String CHAT_TEMPLATE = "{% for m in messages %}<|endoftext|>{{ m['role'] }}\n"
            + "{{ m['content'] }}<|endoftext|>\n{% endfor %}{% if add_generation_prompt %}<|endoftext|>assistant\n"
            + "{% endif %}";

    private Targets() {
    }

    /** Every target, in the order a run cycles through them. */
    public static List<FuzzTarget> all() {
        return List.of(target("model-config", Targets::modelConfig), target("tokenizer", Targets::tokenizer),
                target("safetensors", Targets::safetensors), target("adapter-config", Targets::adapterConfig),
                target("method-options", Targets::methodOptions), target("jsonl", Targets::jsonLines),
                target("chat-template", Targets::chatTemplate), target("gguf", GgufTarget::draw),
                target("checkpoint", CheckpointTarget::draw));
    }

    /** The target called {@code name}. */
    public static FuzzTarget byName(String name) {
        return all().stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("no fuzz target \"" + name + "\" (targets: "
                        + String.join(", ", all().stream().map(FuzzTarget::name).toList()) + ")"));
    }

    private static FuzzTarget target(String name, Drawer drawer) {
        return new FuzzTarget() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Trial draw(SplittableRandom rnd, Path dir) throws IOException {
                return drawer.draw(rnd, dir);
            }
        };
    }

    @FunctionalInterface
    private interface Drawer {
        FuzzTarget.Trial draw(SplittableRandom rnd, Path dir) throws IOException;
    }

    private static FuzzTarget.Trial modelConfig(SplittableRandom rnd, Path dir) throws IOException {
        Path file = write(dir.resolve("config.json"), HostileJson.mutate(Seeds.modelConfig(), rnd, List.of(
                "llama", "qwen2", "mistral", "llama3", "linear", "dynamic", "yarn", "silu", "gelu")));
        return new FuzzTarget.Trial(read(file), () -> {
            ModelConfig c = ModelConfig.load(dir);
            for (LinearSite site : LinearSite.values()) {
                int[] shape = c.shape(site);
                if (shape[0] <= 0 || shape[1] <= 0) {
                    throw new IllegalStateException("loaded a config whose " + site + " is " + Arrays.toString(shape));
                }
            }
        }, List.of(ConfigException.class), List.of(file.toString()));
    }

    private static FuzzTarget.Trial tokenizer(SplittableRandom rnd, Path dir) throws IOException {
        boolean byteLevel = rnd.nextBoolean();
        ObjectNode tokenizer = byteLevel ? Seeds.byteLevelTokenizer() : Seeds.sentencePieceTokenizer();
        ObjectNode config = byteLevel ? Seeds.byteLevelTokenizerConfig() : Seeds.sentencePieceTokenizerConfig();
        Path file = write(dir.resolve(Tokenizers.TOKENIZER_JSON), HostileJson.mutate(tokenizer, rnd, TOKENIZER_NAMES));
        Path configFile = dir.resolve(Tokenizers.TOKENIZER_CONFIG_JSON);
        write(configFile, rnd.nextInt(4) == 0 ? HostileJson.mutate(config, rnd, TOKENIZER_NAMES)
                : JSON.writeValueAsBytes(config));
        List<String> texts = Stream.generate(() -> text(rnd)).limit(4).toList();
        return new FuzzTarget.Trial(read(file) + "\n" + read(configFile) + "\ntexts: " + JSON.writeValueAsString(texts),
                () -> {
                    BpeTokenizer t = Tokenizers.load(dir);
                    for (String text : texts) {
                        t.decode(t.encode(text, true), false);
                        t.decode(t.encode(text, false, true), true);
                    }
                }, List.of(TokenizerException.class), List.of(file.toString(), configFile.toString()));
    }

    private static FuzzTarget.Trial safetensors(SplittableRandom rnd, Path dir) throws IOException {
        Path file = dir.resolve("model.safetensors");
        Seeds.safetensors(file);
        byte[] bytes = Files.readAllBytes(file);
        int headerLength = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] header = Arrays.copyOfRange(bytes, 8, 8 + headerLength);
        byte[] data = Arrays.copyOfRange(bytes, 8 + headerLength, bytes.length);
        List<String> names = new ArrayList<>(DTYPES);
        names.addAll(List.of("model.a.weight", "model.b.weight", "model.c", "__metadata__"));
        byte[] mutated = switch (rnd.nextInt(4)) {
            case 0 -> HostileJson.damage(bytes, rnd);
            case 1 -> assemble(rnd.nextBoolean() ? HostileJson.extremeLong(rnd) : header.length + rnd.nextInt(-3, 4),
                    header, data);
            default -> {
                byte[] h = HostileJson.mutate(JSON.readTree(header), rnd, names);
                byte[] d = rnd.nextInt(4) != 0 ? data : Arrays.copyOf(data, rnd.nextInt(data.length * 2 + 1));
                yield assemble(h.length, h, d);
            }
        };
        Files.write(file, mutated);
        String shown = mutated.length < 8 ? Arrays.toString(mutated)
                : "length prefix " + ByteBuffer.wrap(mutated).order(ByteOrder.LITTLE_ENDIAN).getLong() + ", then "
                + new String(mutated, 8, mutated.length - 8, StandardCharsets.ISO_8859_1);
        return new FuzzTarget.Trial(shown, () -> {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                for (String name : f.names()) {
                    TensorInfo info = f.info(name);
                    f.data(name).toArray(ValueLayout.JAVA_BYTE);
                    if (info.dtype().isWeightType() && info.shape().length > 0) {
                        AdapterFiles.readParameter(f, name, info.shape().length);
                    }
                }
            }
        }, List.of(TensorFormatException.class), List.of(file.toString()));
    }

    private static byte[] assemble(long prefix, byte[] header, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(prefix).array());
        out.writeBytes(header);
        out.writeBytes(data);
        return out.toByteArray();
    }

    private static FuzzTarget.Trial adapterConfig(SplittableRandom rnd, Path dir) throws IOException {
        Saved saved = TinyBase.SAVED.get(rnd.nextInt(TinyBase.SAVED.size()));
        Files.write(dir.resolve("adapter_model.safetensors"), saved.weights());
        List<String> names = new ArrayList<>(MODULES);
        names.addAll(AdapterMethods.peftTypes());
        names.addAll(AdapterMethods.names());
        Path file = write(dir.resolve("adapter_config.json"), HostileJson.mutate(JSON.readTree(saved.config()), rnd,
                names));
        return new FuzzTarget.Trial(saved.variant() + ": " + read(file), () -> AdapterFiles.load(dir),
                List.of(IllegalArgumentException.class, TensorFormatException.class),
                List.of(file.toString(), dir.resolve("adapter_model.safetensors").toString()));
    }

    private static FuzzTarget.Trial methodOptions(SplittableRandom rnd, Path dir) {
        AdapterMethod method = AdapterMethods.all().get(rnd.nextInt(AdapterMethods.all().size()));
        String variant = method.names().get(rnd.nextInt(method.names().size()));
        Map<String, List<String>> given = new LinkedHashMap<>(method.fittingOptions(variant, TinyBase.CONFIG));
        List<MethodOption> options = method.options();
        List<String> fuzzed = new ArrayList<>();
        int n = rnd.nextInt(1, 3);
        for (int i = 0; i < n; i++) {
            MethodOption option = options.get(rnd.nextInt(options.size()));
            given.put(option.name(), optionValue(option.kind(), rnd));
            fuzzed.add(option.name());
        }
        long seed = rnd.nextLong();
        return new FuzzTarget.Trial(variant + " " + given, () -> method.create(variant,
                MethodOptions.of(options, given), TinyBase.BASE, seed).parameterCount(),
                List.of(IllegalArgumentException.class), fuzzed);
    }

    private static List<String> optionValue(MethodOption.Kind kind, SplittableRandom rnd) {
        if (rnd.nextInt(5) == 0) {
            return List.of(HostileJson.text(rnd));
        }
        return switch (kind) {
            case INT -> List.of(Long.toString(rnd.nextBoolean() ? HostileJson.extremeLong(rnd) : rnd.nextInt(-2, 40)));
            case DECIMAL -> List.of(switch (rnd.nextInt(4)) {
                case 0 -> Double.toString(HostileJson.extremeDouble(rnd));
                case 1 -> List.of("NaN", "Infinity", "-Infinity", "1e309", "0x1p3", "1_0", "")
                        .get(rnd.nextInt(7));
                case 2 -> Long.toString(HostileJson.extremeLong(rnd));
                default -> Double.toString(rnd.nextDouble(-2, 64));
            });
            case BOOLEAN, FLAG -> List.of(List.of("true", "false", "TRUE", " true ", "yes", "1").get(rnd.nextInt(6)));
            case TEXT -> List.of(List.of("none", "all", "lora_only", "true", "false", "gaussian", "pissa", "olora",
                    "relu", "swish", "gelu", "tanh", "RANDOM", "TEXT", "hello world", "").get(rnd.nextInt(16)));
            case LIST -> {
                List<String> items = new ArrayList<>();
                int count = rnd.nextInt(4);
                for (int i = 0; i < count; i++) {
                    String module = MODULES.get(rnd.nextInt(MODULES.size()));
                    items.add(switch (rnd.nextInt(4)) {
                        case 0 -> Long.toString(HostileJson.extremeLong(rnd));
                        case 1 -> module + "=" + List.of("4", "0", "-1", "x", "1e9", "2147483648", "NaN")
                                .get(rnd.nextInt(7));
                        default -> module;
                    });
                }
                yield items;
            }
        };
    }

    private static FuzzTarget.Trial jsonLines(SplittableRandom rnd, Path dir) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int lines = rnd.nextInt(1, 7);
        for (int i = 0; i < lines; i++) {
            out.writeBytes(switch (rnd.nextInt(6)) {
                case 0 -> rawLine(rnd);
                case 1 -> JSON.writeValueAsBytes(example(rnd));
                default -> HostileJson.mutate(example(rnd), rnd, List.of("text", "prompt", "completion",
                        "instruction", "input", "output", "messages", "role", "content", "label", "user",
                        "assistant", "system"));
            });
            out.write('\n');
        }
        Path file = write(dir.resolve("data.jsonl"), out.toByteArray());
        DatasetFormat format = rnd.nextBoolean() ? null
                : DatasetFormat.values()[rnd.nextInt(DatasetFormat.values().length)];
        boolean skipBadLines = rnd.nextBoolean();
        return new FuzzTarget.Trial("format " + format + ", skip bad lines " + skipBadLines + ":\n" + read(file),
                () -> new DatasetLoader(TinyBase.TOKENIZER, ChatTemplate.of("chat template", CHAT_TEMPLATE,
                        Map.of("eos_token", "<|endoftext|>"), CLOCK), format, skipBadLines).load(file),
                List.of(DataFormatException.class), List.of(file.toString()));
    }

    private static ObjectNode example(SplittableRandom rnd) {
        ObjectNode line = JSON.createObjectNode();
        switch (rnd.nextInt(5)) {
            case 0 -> line.put("text", text(rnd));
            case 1 -> line.put("prompt", text(rnd)).put("completion", text(rnd));
            case 2 -> line.put("instruction", text(rnd)).put("input", text(rnd)).put("output", text(rnd));
            case 3 -> line.put("text", text(rnd)).put("label", List.of("yes", "no", "").get(rnd.nextInt(3)));
            default -> {
                var messages = line.putArray("messages");
                int turns = rnd.nextInt(0, 4);
                for (int i = 0; i < turns; i++) {
                    messages.addObject().put("role", ROLES.get(rnd.nextInt(ROLES.size()))).put("content", text(rnd));
                }
            }
        }
        return line;
    }

    private static byte[] rawLine(SplittableRandom rnd) {
        return switch (rnd.nextInt(6)) {
            case 0 -> new byte[0];
            case 1 -> {
                byte[] b = new byte[rnd.nextInt(1, 40)];
                rnd.nextBytes(b);
                for (int i = 0; i < b.length; i++) {
                    b[i] = b[i] == '\n' ? (byte) ' ' : b[i];
                }
                yield b;
            }
            case 2 -> "\uFEFF{\"text\": \"bom\"}".getBytes(StandardCharsets.UTF_8);
            case 3 -> ("{\"text\": \"x\", \"n\": 1e" + rnd.nextInt(300, 100000) + "}").getBytes(StandardCharsets.UTF_8);
            case 4 -> List.of("[]", "null", "1", "\"text\"", "{", "{\"text\": \"x\"} {\"text\": \"y\"}",
                    "{\"text\": \"\\ud800\"}", "{\"messages\": {\"role\": \"user\"}}").get(rnd.nextInt(8))
                    .getBytes(StandardCharsets.UTF_8);
            default -> ("{\"text\": \"" + "9".repeat(rnd.nextInt(1, 2000)) + "\", \"label\": "
                    + "9".repeat(rnd.nextInt(1, 2000)) + "}").getBytes(StandardCharsets.UTF_8);
        };
    }

    private static FuzzTarget.Trial chatTemplate(SplittableRandom rnd, Path dir) throws IOException {
        StringBuilder template = new StringBuilder();
        int pieces = rnd.nextInt(1, 9);
        for (int i = 0; i < pieces; i++) {
            template.append(rnd.nextInt(8) == 0 ? HostileJson.text(rnd)
                    : TEMPLATE_PIECES.get(rnd.nextInt(TEMPLATE_PIECES.size())));
        }
        List<ChatMessage> messages = new ArrayList<>();
        int turns = rnd.nextInt(0, 4);
        for (int i = 0; i < turns; i++) {
            messages.add(new ChatMessage(ROLES.get(rnd.nextInt(ROLES.size())), text(rnd)));
        }
        boolean generationPrompt = rnd.nextBoolean();
        return new FuzzTarget.Trial(template + "\nmessages: " + messages + ", add_generation_prompt "
                + generationPrompt, () -> ChatTemplate.of("fuzzed template", template.toString(),
                Map.of("bos_token", "<s>", "eos_token", "</s>"), CLOCK).render(messages, generationPrompt, Map.of()),
                List.of(ChatTemplateException.class), List.of());
    }

    /** Text to encode or put in data: plain words, special tokens, or random code points (lone surrogates too). */
    private static String text(SplittableRandom rnd) {
        return switch (rnd.nextInt(4)) {
            case 0 -> "the cat is in the garden";
            case 1 -> "<s> hello </s><|endoftext|>  \t\n" + "é".repeat(rnd.nextInt(3));
            case 2 -> {
                StringBuilder s = new StringBuilder();
                int n = rnd.nextInt(0, 30);
                for (int i = 0; i < n; i++) {
                    s.append((char) rnd.nextInt(0x10000));
                }
                yield s.toString();
            }
            default -> HostileJson.text(rnd);
        };
    }

    private static Path write(Path file, byte[] bytes) throws IOException {
        return Files.write(file, bytes);
    }

    private static String read(Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A saved adapter: its variant, and its files' bytes. */
    private record Saved(String variant, byte[] config, byte[] weights) {
    }

    /** The tiny random base the option and adapter targets use, built once: a tokenizer, a model, saved adapters. */
    private static final class TinyBase {
        static final ModelConfig CONFIG = new BenchShape(16, 2, 4, 2, 32, 320, 8, 1, 4, 4, 1, 0, DType.F32).config();
        static final BpeTokenizer TOKENIZER = tokenizer();
        static final AdapterBase BASE = new AdapterBase(CONFIG, RandomModel.weights(
                new BenchShape(16, 2, 4, 2, 32, 320, 8, 1, 4, 4, 1, 0, DType.F32), 1), TOKENIZER, "tiny-random");
        static final List<Saved> SAVED = saved();

        private static BpeTokenizer tokenizer() {
            try {
                Path dir = Files.createTempDirectory("tailor-fuzz-tokenizer-");
                Files.write(dir.resolve(Tokenizers.TOKENIZER_JSON), JSON.writeValueAsBytes(Seeds.byteLevelTokenizer()));
                Files.write(dir.resolve(Tokenizers.TOKENIZER_CONFIG_JSON),
                        JSON.writeValueAsBytes(Seeds.byteLevelTokenizerConfig()));
                BpeTokenizer t = Tokenizers.load(dir);
                Files.delete(dir.resolve(Tokenizers.TOKENIZER_JSON));
                Files.delete(dir.resolve(Tokenizers.TOKENIZER_CONFIG_JSON));
                Files.delete(dir);
                return t;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static List<Saved> saved() {
            List<Saved> saved = new ArrayList<>();
            for (AdapterMethod method : AdapterMethods.all()) {
                for (String variant : method.names()) {
                    try {
                        Path dir = Files.createTempDirectory("tailor-fuzz-adapter-");
                        method.create(variant, MethodOptions.of(method.options(),
                                method.fittingOptions(variant, CONFIG)), BASE, 1).save(dir, "tiny-random", null);
                        Path config = dir.resolve("adapter_config.json");
                        Path weights = dir.resolve("adapter_model.safetensors");
                        saved.add(new Saved(variant, Files.readAllBytes(config), Files.readAllBytes(weights)));
                        try (Stream<Path> files = Files.list(dir)) {
                            for (Path f : files.toList()) {
                                Files.delete(f);
                            }
                        }
                        Files.delete(dir);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
            return List.copyOf(saved);
        }
    }
}
