package dev.tailor.adapt;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.Shared;
import dev.tailor.adapt.bottleneck.Architecture;
import dev.tailor.adapt.bottleneck.BottleneckModel;
import dev.tailor.adapt.bottleneck.BottleneckConfig;
import dev.tailor.adapt.compacter.CompacterArchitecture;
import dev.tailor.adapt.compacter.CompacterModel;
import dev.tailor.adapt.compacter.CompacterConfig;
import dev.tailor.adapt.ia3.Ia3Model;
import dev.tailor.adapt.ia3.Ia3Config;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.adapt.lora.LoraConfig;
import dev.tailor.adapt.prefix.PrefixTuningModel;
import dev.tailor.adapt.prefix.PrefixTuningConfig;
import dev.tailor.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link AdapterFiles}: every method's saved config is read back by type; unknown keys warn, they do not fail. */
class AdapterFilesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void everyMethodWritesOnlyKeysItKnowsAndLoadsBackAsItsType() {
        ModelConfig c = ModelConfig.load(Shared.require("models/tiny-llama"));
        List<Adapter> adapters = List.of(
                LoraModel.create(new LoraConfig(4, 8, 0, List.of("all-linear"), false, null), c, 1),
                Ia3Model.create(Ia3Config.defaults(null, null), c, 1),
                BottleneckModel.create(BottleneckConfig.defaults(Architecture.DOUBLE_SEQ_BN, 16.0, null), c, 1),
                CompacterModel.create(new CompacterConfig(CompacterArchitecture.parse("compacter"), 16, 4, 1), c, 1),
                PrefixTuningModel.create(PrefixTuningConfig.forModel(c, 5), 1));
        for (Adapter a : adapters) {
            Path out = dir.resolve(a.type());
            a.save(out, "tiny-llama", "sha256:x");
            assertEquals(List.of(), AdapterFiles.unknownKeys(a.type(), AdapterFiles.config(out)), a.type());
            Adapter back = AdapterFiles.load(out);
            assertEquals(a.type(), back.type());
            assertEquals(a.parameterCount(), back.parameterCount(), a.type());
            assertEquals("sha256:x", AdapterFiles.baseFingerprint(out));
        }
        Path golden = Shared.require("golden/tiny-llama/lora");
        assertEquals(List.of(), AdapterFiles.unknownKeys("LORA", AdapterFiles.config(golden)), "PEFT's own file");
    }

    @Test
    void unknownKeysAreWarnedNotFatal() throws Exception {
        Path golden = Shared.require("golden/tiny-llama/lora");
        Path copy = dir.resolve("future");
        Files.createDirectories(copy);
        Files.copy(golden.resolve("adapter_model.safetensors"), copy.resolve("adapter_model.safetensors"));
        ObjectNode config = (ObjectNode) JSON.readTree(golden.resolve("adapter_config.json").toFile());
        config.put("some_future_option", true);
        config.put("another_one", 3);
        JSON.writeValue(copy.resolve("adapter_config.json").toFile(), config);
        List<String> warnings;
        try (LogCapture log = LogCapture.of(AdapterFiles.class)) {
            assertInstanceOf(LoraModel.class, AdapterFiles.load(copy));
            warnings = log.messages();
        }
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.getFirst().contains("another_one, some_future_option"), warnings.getFirst());
    }

    @Test
    void aDirectoryWithoutConfigOrOfAnUnknownTypeIsNamed() throws Exception {
        var e = assertThrows(IllegalArgumentException.class, () -> AdapterFiles.load(dir));
        assertTrue(e.getMessage().contains("no adapter_config.json"), e.getMessage());
        Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\": \"VERA\"}");
        e = assertThrows(IllegalArgumentException.class, () -> AdapterFiles.load(dir));
        assertTrue(e.getMessage().contains("VERA") && e.getMessage().contains("LORA"), e.getMessage());
        Files.writeString(dir.resolve("adapter_config.json"), "[1, 2");
        e = assertThrows(IllegalArgumentException.class, () -> AdapterFiles.load(dir));
        assertTrue(e.getMessage().contains("adapter_config.json"), e.getMessage());
    }
}
