package dev.tailor;

import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.adapt.bottleneck.Architecture;
import dev.tailor.adapt.bottleneck.BottleneckConfig;
import dev.tailor.adapt.bottleneck.BottleneckModel;
import dev.tailor.adapt.compacter.CompacterArchitecture;
import dev.tailor.adapt.compacter.CompacterConfig;
import dev.tailor.adapt.compacter.CompacterModel;
import dev.tailor.adapt.ia3.Ia3Config;
import dev.tailor.adapt.ia3.Ia3Model;
import dev.tailor.adapt.prefix.PrefixTuningConfig;
import dev.tailor.adapt.prefix.PrefixTuningModel;
import dev.tailor.adapt.prompt.PromptTuningConfig;
import dev.tailor.adapt.prompt.PromptTuningInit;
import dev.tailor.adapt.prompt.PromptTuningModel;
import dev.tailor.io.ModelFiles;
import dev.tailor.io.TensorFormatException;
import dev.tailor.model.ConfigException;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.ModelConfig;
import dev.tailor.tokenizer.TokenizerException;
import dev.tailor.tokenizer.Tokenizers;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Replays the whole hostile corpus ({@link Hostile}): every file, loaded where it belongs, is refused with the
 * loader's documented exception and a message that starts with the path of a file of its directory. A file added to
 * the corpus is replayed without touching this test; the named tests beside each loader say what each one is.
 */
class HostileCorpusTest {
    private static final String WEIGHTS = "adapter_model.safetensors";

    @TestFactory
    Stream<DynamicTest> everyHostileTokenizerIsRefusedNamingTheFile() {
        return replay("tokenizer", (name, dir) -> {
            Hostile.copy("tokenizer/" + name, dir, Tokenizers.TOKENIZER_JSON);
            return () -> refused(dir, () -> Tokenizers.load(dir), TokenizerException.class);
        });
    }

    @TestFactory
    Stream<DynamicTest> everyHostileModelConfigIsRefusedNamingTheFile() {
        return replay("config", (name, dir) -> {
            Path tiny = Shared.require("models/tiny-llama");
            Files.createSymbolicLink(dir.resolve(ModelFiles.SINGLE_FILE), tiny.resolve(ModelFiles.SINGLE_FILE));
            Hostile.copy("config/" + name, dir, "config.json");
            return () -> refused(dir, () -> LlamaModel.load(dir).close(),
                    ConfigException.class, TensorFormatException.class);
        });
    }

    @TestFactory
    Stream<DynamicTest> everyHostileAdapterConfigIsRefusedNamingTheFile() {
        return replay("adapter", (name, dir) -> {
            String method = name.substring(0, name.indexOf('-'));
            if (method.equals("lora") || method.equals("peft")) {
                Files.copy(Shared.require("golden/tiny-llama/lora").resolve(WEIGHTS), dir.resolve(WEIGHTS));
            } else {
                saved(method).save(dir, "tiny-llama", null);
            }
            Hostile.copy("adapter/" + name, dir, "adapter_config.json");
            return () -> refused(dir, () -> AdapterFiles.load(dir),
                    IllegalArgumentException.class, TensorFormatException.class);
        });
    }

    /** The adapter of {@code method} (a corpus file's prefix) whose saved tensors the corpus configs go with. */
    private static Adapter saved(String method) {
        ModelConfig tiny = ModelConfig.load(Shared.require("models/tiny-llama"));
        return switch (method) {
            case "ia3" -> Ia3Model.create(Ia3Config.defaults(null, null), tiny, 1);
            case "bottleneck" -> BottleneckModel.create(BottleneckConfig.defaults(Architecture.DOUBLE_SEQ_BN, 16.0,
                    null), tiny, 1);
            case "compacter" -> CompacterModel.create(new CompacterConfig(CompacterArchitecture.parse("compacter"),
                    16, 4, 1), tiny, 1);
            case "prefix" -> PrefixTuningModel.create(PrefixTuningConfig.forModel(tiny, 5), 1);
            case "prompt" -> PromptTuningModel.create(PromptTuningConfig.forModel(tiny, 5, PromptTuningInit.RANDOM,
                    null, "tiny-llama"), null, null, 1);
            default -> throw new IllegalStateException("hostile/adapter/ file for an unknown method: " + method);
        };
    }

    @FunctionalInterface
    private interface Context {
        /** Sets up {@code dir} for corpus file {@code name} and returns the check. */
        Executable prepare(String name, Path dir) throws IOException;
    }

    private static Stream<DynamicTest> replay(String kind, Context context) {
        return Hostile.names(kind).stream().filter(n -> n.endsWith(".json")).map(name ->
                DynamicTest.dynamicTest(kind + "/" + name, () -> {
                    Path dir = Files.createTempDirectory("hostile-");
                    try {
                        context.prepare(name, dir).execute();
                    } finally {
                        delete(dir);
                    }
                }));
    }

    @SafeVarargs
    private static void refused(Path dir, Executable load, Class<? extends RuntimeException>... documented) {
        RuntimeException e = assertThrows(RuntimeException.class, load);
        if (Stream.of(documented).noneMatch(d -> d.isInstance(e))) {
            fail("refused with " + e.getClass().getName() + ", not one of " + Stream.of(documented)
                    .map(Class::getSimpleName).toList(), e);
        }
        assertTrue(e.getMessage() != null && e.getMessage().startsWith(dir + "/"),
                "names a file of " + dir + ": " + e.getMessage());
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
