package dev.tailor.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sharded checkpoint seen as one source: {@code model.safetensors.index.json} maps each tensor to a shard file
 * ({@code "weight_map": {tensor: file}}). Opening checks that every listed shard exists, that each tensor is in the
 * shard the index names, and that no tensor appears in two shards or in none of the index's entries.
 */
final class ShardedTensorSource implements TensorSource {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path index;
    private final Map<String, SafetensorsFile> byTensor;
    private final List<SafetensorsFile> shards;

    private ShardedTensorSource(Path index, Map<String, SafetensorsFile> byTensor, List<SafetensorsFile> shards) {
        this.index = index;
        this.byTensor = byTensor;
        this.shards = shards;
    }

    /** Opens the shards listed by an index file. */
    static ShardedTensorSource open(Path index) {
        Map<String, String> weightMap = readWeightMap(index);
        Map<String, SafetensorsFile> opened = new LinkedHashMap<>();
        try {
            for (var e : weightMap.entrySet()) {
                if (!opened.containsKey(e.getValue())) {
                    opened.put(e.getValue(), openShard(index, e.getValue(), e.getKey()));
                }
            }
            Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
            for (var e : weightMap.entrySet()) {
                SafetensorsFile shard = opened.get(e.getValue());
                if (!shard.contains(e.getKey())) {
                    throw new TensorFormatException(index + ": weight_map puts tensor " + e.getKey() + " in "
                            + e.getValue() + ", but that shard does not contain it");
                }
                byTensor.put(e.getKey(), shard);
            }
            checkEachTensorInOneShard(index, weightMap, opened);
            return new ShardedTensorSource(index, Collections.unmodifiableMap(byTensor), List.copyOf(opened.values()));
        } catch (RuntimeException e) {
            opened.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static Map<String, String> readWeightMap(Path index) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(index));
        } catch (IOException e) {
            throw new TensorFormatException(index + ": cannot read sharded checkpoint index: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new TensorFormatException(index + ": needs a non-empty \"weight_map\" object (tensor -> shard file)");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (var e : map.properties()) {
            String file = e.getValue().asText("");
            if (!e.getValue().isTextual() || !isPlainFileName(file)) {
                throw new TensorFormatException(index + ": weight_map entry for " + e.getKey()
                        + " must name a shard file in the same directory, got " + e.getValue());
            }
            weightMap.put(e.getKey(), file);
        }
        return weightMap;
    }

    private static boolean isPlainFileName(String file) {
        return !file.isEmpty() && !file.contains("/") && !file.contains("\\") && !file.equals(".")
                && !file.equals("..");
    }

    private static SafetensorsFile openShard(Path index, String file, String firstTensor) {
        Path shard = index.resolveSibling(file);
        if (!Files.isRegularFile(shard)) {
            throw new TensorFormatException(index + ": shard " + file + " listed for tensor " + firstTensor
                    + " is missing (expected at " + shard + ")");
        }
        return SafetensorsFile.open(shard);
    }

    private static void checkEachTensorInOneShard(Path index, Map<String, String> weightMap,
                                                  Map<String, SafetensorsFile> shards) {
        Map<String, String> seen = new HashMap<>();
        for (var shard : shards.entrySet()) {
            for (String name : shard.getValue().names()) {
                String other = seen.putIfAbsent(name, shard.getKey());
                if (other != null) {
                    throw new TensorFormatException(index + ": tensor " + name + " is present in two shards, "
                            + other + " and " + shard.getKey());
                }
                if (!weightMap.containsKey(name)) {
                    throw new TensorFormatException(index + ": shard " + shard.getKey() + " holds tensor " + name
                            + ", which weight_map does not list");
                }
            }
        }
    }

    @Override
    public Set<String> names() {
        return byTensor.keySet();
    }

    @Override
    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return shardOf(name).info(name);
    }

    @Override
    public MemorySegment data(String name) {
        return shardOf(name).data(name);
    }

    @Override
    public void release(String name) {
        shardOf(name).release(name);
    }

    @Override
    public StoredRows storedRows(String name) {
        return shardOf(name).storedRows(name);
    }

    @Override
    public void dropMappedPages(String name, long from, long to) {
        shardOf(name).dropMappedPages(name, from, to);
    }

    @Override
    public boolean mappedInPlace(String name) {
        return shardOf(name).mappedInPlace(name);
    }

    @Override
    public Path file(String name) {
        return shardOf(name).path();
    }

    private SafetensorsFile shardOf(String name) {
        SafetensorsFile shard = byTensor.get(name);
        if (shard == null) {
            throw new TensorFormatException(index + ": missing tensor " + name + " (not in weight_map)");
        }
        return shard;
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }
}
