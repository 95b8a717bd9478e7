package dev.tailor.io;

import dev.tailor.tensor.DType;
import dev.tailor.tensor.Numerics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelFilesTest {
    @TempDir
    Path dir;

    private void shards() {
        new SafetensorsWriter().add("a", DType.F32, new long[]{2}, new float[]{1, 2})
                .add("b", DType.BF16, new long[]{1}, new float[]{3})
                .write(dir.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().add("c", DType.F16, new long[]{2, 1}, new float[]{4, 5})
                .write(dir.resolve("model-00002-of-00002.safetensors"));
    }

    private void index(String weightMap) throws IOException {
        Files.writeString(dir.resolve(ModelFiles.INDEX_FILE),
                "{\"metadata\": {\"total_size\": 14}, \"weight_map\": " + weightMap + "}");
    }

    private static final String MAP = "{\"a\": \"model-00001-of-00002.safetensors\", "
            + "\"b\": \"model-00001-of-00002.safetensors\", \"c\": \"model-00002-of-00002.safetensors\"}";

    private String failure() {
        return assertThrows(TensorFormatException.class, () -> ModelFiles.open(dir).close()).getMessage();
    }

    @Test
    void opensShardsAsOneSource() throws IOException {
        shards();
        index(MAP);
        try (TensorSource src = ModelFiles.open(dir)) {
            assertEquals(Set.of("a", "b", "c"), src.names());
            assertEquals(2f, Numerics.load(src.data("a"), DType.F32, 1));
            assertEquals(3f, Numerics.load(src.data("b"), DType.BF16, 0));
            assertEquals(5f, Numerics.load(src.data("c"), DType.F16, 1));
            assertEquals(dir.resolve("model-00002-of-00002.safetensors"), src.file("c"));
            assertTrue(src.mappedInPlace("a") && src.mappedInPlace("c"), "each shard's tensors are its mapped bytes");
            TensorFormatException e = assertThrows(TensorFormatException.class, () -> src.info("d"));
            assertEquals(dir.resolve(ModelFiles.INDEX_FILE) + ": missing tensor d (not in weight_map)", e.getMessage());
        }
    }

    @Test
    void prefersTheSingleFileLikeTransformers() throws IOException {
        index(MAP);
        new SafetensorsWriter().add("only", DType.F32, new long[]{1}, new float[]{9}).write(dir.resolve("model.safetensors"));
        try (TensorSource src = ModelFiles.open(dir)) {
            assertEquals(Set.of("only"), src.names());
        }
    }

    @Test
    void missingShardNamesIndexShardAndTensor() throws IOException {
        shards();
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        index(MAP);
        String msg = failure();
        assertTrue(msg.startsWith(dir.resolve(ModelFiles.INDEX_FILE).toString()), msg);
        assertTrue(msg.contains("shard model-00002-of-00002.safetensors listed for tensor c is missing"), msg);
    }

    @Test
    void tensorNotInItsShard() throws IOException {
        shards();
        index(MAP.replace("\"c\": \"model-00002", "\"c\": \"model-00001").replace("}", ", \"x\": "
                + "\"model-00002-of-00002.safetensors\"}"));
        assertTrue(failure().contains("weight_map puts tensor c in model-00001-of-00002.safetensors, but that shard "
                + "does not contain it"));
    }

    @Test
    void tensorInTwoShards() throws IOException {
        shards();
        new SafetensorsWriter().add("c", DType.F16, new long[]{1}, new float[]{4})
                .add("a", DType.F32, new long[]{1}, new float[]{1})
                .write(dir.resolve("model-00002-of-00002.safetensors"));
        index(MAP);
        assertTrue(failure().contains("tensor a is present in two shards, model-00001-of-00002.safetensors and "
                + "model-00002-of-00002.safetensors"));
    }

    @Test
    void shardHoldsUnlistedTensor() throws IOException {
        shards();
        index("{\"a\": \"model-00001-of-00002.safetensors\", \"c\": \"model-00002-of-00002.safetensors\"}");
        assertTrue(failure().contains("shard model-00001-of-00002.safetensors holds tensor b, which weight_map does "
                + "not list"));
    }

    @Test
    void badIndexes() throws IOException {
        for (var c : Map.of("{}", "needs a non-empty \"weight_map\"",
                "{\"a\": \"../model.safetensors\"}", "weight_map entry for a must name a shard file",
                "{\"a\": 3}", "weight_map entry for a").entrySet()) {
            index(c.getKey());
            String msg = failure();
            assertTrue(msg.startsWith(dir.resolve(ModelFiles.INDEX_FILE) + ": " ), msg);
            assertTrue(msg.contains(c.getValue()), msg);
        }
        Files.writeString(dir.resolve(ModelFiles.INDEX_FILE), "{not json");
        assertTrue(failure().contains("cannot read sharded checkpoint index"));
    }

    @Test
    void emptyDirectory() {
        assertEquals(dir + ": no model.safetensors or model.safetensors.index.json (not a safetensors model directory)",
                failure());
    }
}
