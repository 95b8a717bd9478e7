package dev.tailor.model;

import dev.tailor.Shared;
import dev.tailor.io.gguf.GgufFile;
import dev.tailor.io.gguf.GgufTensor;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GGUF files Tailor writes against the ones llama.cpp's converter and {@code llama-quantize} wrote. */
class GgufExportTest {
    @TempDir
    Path tmp;

    /**
     * Every tensor's name, type, shape and bytes, every metadata key and value, in the reference's order, and so the
     * whole file, equal llama.cpp's for the tiny model.
     */
    @ParameterizedTest
    @ValueSource(strings = {"f32", "f16", "q8_0", "q4_0"})
    void tinyLlamaMatchesLlamaCppsFile(String type) throws Exception {
        Path model = Shared.require("models/tiny-llama");
        Path reference = Shared.require("models/tiny-llama-gguf/tiny-llama-" + type + ".gguf");
        Path out = tmp.resolve("out.gguf");
        try (LlamaModel m = LlamaModel.load(model)) {
            GgufExport.write(out, m.config(), m.weights(), model, GgufExport.nameFromDirectory("tiny-llama"),
                    GgufExport.fileType(type));
        }
        try (GgufFile want = GgufFile.open(reference); GgufFile got = GgufFile.open(out)) {
            assertEquals(new ArrayList<>(want.metadata().keys()), new ArrayList<>(got.metadata().keys()));
            for (String key : want.metadata().keys()) {
                assertTrue(deepEquals(want.metadata().get(key), got.metadata().get(key)), key);
            }
            List<String> names = new ArrayList<>();
            want.tensors().forEach(t -> names.add(t.name()));
            List<String> gotNames = new ArrayList<>();
            got.tensors().forEach(t -> gotNames.add(t.name()));
            assertEquals(names, gotNames);
            for (GgufTensor w : want.tensors()) {
                GgufTensor g = got.tensor(w.name());
                assertEquals(w.type(), g.type(), w.name());
                assertArrayEquals(w.dims(), g.dims(), w.name());
                assertEquals(-1, want.data(w).mismatch(got.data(g)), w.name() + " bytes");
            }
        }
        assertEquals(-1, Files.mismatch(reference, out), "the whole file");
    }

    private static boolean deepEquals(Object a, Object b) {
        if (a != null && b != null && a.getClass().isArray() && b.getClass().isArray()) {
            int n = Array.getLength(a);
            if (n != Array.getLength(b)) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                if (!Objects.equals(Array.get(a, i), Array.get(b, i))) {
                    return false;
                }
            }
            return true;
        }
        return Objects.equals(a, b);
    }
}
