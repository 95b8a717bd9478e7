package dev.tailor.model;

import dev.tailor.io.ModelFiles;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.SafetensorsWriter;
import dev.tailor.io.TensorInfo;
import dev.tailor.io.TensorSource;
import dev.tailor.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BaseFingerprintTest {
    @TempDir
    Path tmp;

    private Path copyTinyModel(String name) throws IOException {
        Path src = Shared.require("models/tiny-llama");
        Path dst = Files.createDirectories(tmp.resolve(name));
        for (String f : List.of("config.json", "model.safetensors")) {
            Files.copy(src.resolve(f), dst.resolve(f), StandardCopyOption.COPY_ATTRIBUTES);
            dst.resolve(f).toFile().setWritable(true);
        }
        return dst;
    }

    @Test
    void sameFilesGiveSameFingerprint() throws IOException {
        String a = BaseFingerprint.compute(copyTinyModel("a"));
        String b = BaseFingerprint.compute(copyTinyModel("b"));
        assertEquals(a, b);
        assertTrue(a.matches("sha256:[0-9a-f]{64}"), a);
        assertEquals(a, BaseFingerprint.compute(Shared.require("models/tiny-llama")));
    }

    @Test
    void oneFlippedByteInTheMiddleOfATensorChangesIt() throws IOException {
        Path model = copyTinyModel("m");
        String before = BaseFingerprint.compute(model);
        Path file = model.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(file);
        long dataStart = 8 + ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        long at;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            TensorInfo t = f.info("model.layers.1.mlp.down_proj.weight");
            at = dataStart + t.begin() + t.byteSize() / 2 + 1;
        }
        bytes[(int) at] ^= 0x01;
        Files.write(file, bytes);
        assertNotEquals(before, BaseFingerprint.compute(model));
    }

    @Test
    void shardsAndSingleFileOfTheSameTensorsAgree() throws IOException {
        Path single = copyTinyModel("single");
        Path sharded = Files.createDirectories(tmp.resolve("sharded"));
        Files.copy(single.resolve("config.json"), sharded.resolve("config.json"));
        StringBuilder map = new StringBuilder();
        try (SafetensorsFile f = SafetensorsFile.open(single.resolve("model.safetensors"))) {
            List<String> names = f.names().stream().sorted().toList();
            for (int s = 0; s < 3; s++) {
                String shard = "model-0000" + (s + 1) + "-of-00003.safetensors";
                SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
                for (int i = s; i < names.size(); i += 3) {
                    TensorInfo t = f.info(names.get(i));
                    w.add(t.name(), t.dtype(), t.shape(), f.data(t.name()));
                    map.append(map.isEmpty() ? "" : ", ").append('"').append(t.name()).append("\": \"")
                            .append(shard).append('"');
                }
                w.write(sharded.resolve(shard));
            }
        }
        Files.writeString(sharded.resolve(ModelFiles.INDEX_FILE), "{\"weight_map\": {" + map + "}}");
        assertEquals(BaseFingerprint.compute(single), BaseFingerprint.compute(sharded));
    }

    @Test
    void cosmeticConfigFieldsDoNotCountArchitectureDoes() throws IOException {
        Path model = copyTinyModel("m");
        byte[] config = Files.readAllBytes(model.resolve("config.json"));
        String json = new String(config, StandardCharsets.UTF_8);
        String base;
        try (TensorSource src = ModelFiles.open(model)) {
            base = BaseFingerprint.compute(config, src);
            String cosmetic = json.replace("\"torch_dtype\": \"float32\"", "\"torch_dtype\": \"bfloat16\", "
                    + "\"_name_or_path\": \"/somewhere/else\", \"transformers_version\": \"4.57.1\"");
            assertNotEquals(json, cosmetic);
            assertEquals(base, BaseFingerprint.compute(cosmetic.getBytes(StandardCharsets.UTF_8), src));
            String theta = json.replace("\"rope_theta\": 10000.0", "\"rope_theta\": 500000.0");
            assertNotEquals(json, theta);
            assertNotEquals(base, BaseFingerprint.compute(theta.getBytes(StandardCharsets.UTF_8), src));
        }
        assertEquals(base, BaseFingerprint.compute(model));
    }

    @Test
    void everyConfigComponentIsHashedOrDeclaredNotArchitecture() {
        Set<String> components = Stream.of(ModelConfig.class.getRecordComponents())
                .map(java.lang.reflect.RecordComponent::getName).collect(Collectors.toSet());
        ModelConfig c = new ModelConfig("llama", 8, 16, 1, 2, 1, 4, 1e-5, 1e4, null, 10, 32, false, false, false, 1,
                List.of(2));
        Set<String> covered = new HashSet<>(BaseFingerprint.canonicalConfig(c).keySet());
        covered.addAll(BaseFingerprint.NOT_ARCHITECTURE);
        assertEquals(components, covered);
    }
}
