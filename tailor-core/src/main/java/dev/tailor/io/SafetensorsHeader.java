package dev.tailor.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.tensor.DType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The parsed JSON header of a safetensors file, validated against the size of the data section that follows it.
 *
 * @param tensors  entries by name, in header order
 * @param metadata the {@code __metadata__} object (string to string), empty when absent
 */
record SafetensorsHeader(Map<String, TensorInfo> tensors, Map<String, String> metadata) {

    /** Largest header accepted, as in the Rust {@code safetensors} crate (100 MB). */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * Parses and validates a header.
     *
     * @param path     the file, for messages
     * @param header   the header's JSON bytes
     * @param dataSize bytes in the data section after the header
     * @throws TensorFormatException naming the file, the tensor and what is wrong
     */
    static SafetensorsHeader parse(Path path, byte[] header, long dataSize) {
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (JsonProcessingException e) {
            throw new TensorFormatException(path + ": header is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new TensorFormatException(path + ": header cannot be parsed: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new TensorFormatException(path + ": header is not a JSON object");
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (var e : root.properties()) {
            if (e.getKey().equals("__metadata__")) {
                parseMetadata(path, e.getValue(), metadata);
            } else {
                tensors.put(e.getKey(), parseEntry(path, e.getKey(), e.getValue(), dataSize));
            }
        }
        SafetensorsValidation.checkNoOverlap(path, tensors.values());
        return new SafetensorsHeader(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static void parseMetadata(Path path, JsonNode node, Map<String, String> metadata) {
        if (!node.isObject()) {
            throw new TensorFormatException(path + ": __metadata__ must be an object of strings, got " + node);
        }
        for (var m : node.properties()) {
            if (!m.getValue().isTextual()) {
                throw new TensorFormatException(path + ": __metadata__ value of " + m.getKey()
                        + " must be a string, got " + m.getValue());
            }
            metadata.put(m.getKey(), m.getValue().asText());
        }
    }

    private static TensorInfo parseEntry(Path path, String name, JsonNode node, long dataSize) {
        String where = path + ": tensor " + name;
        JsonNode dtypeNode = node.get("dtype");
        JsonNode shapeNode = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (!node.isObject() || dtypeNode == null || !dtypeNode.isTextual() || shapeNode == null
                || !shapeNode.isArray() || offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw new TensorFormatException(where + ": entry needs dtype, shape and data_offsets [begin, end], got "
                    + node);
        }
        DType dtype;
        try {
            dtype = DType.fromSafetensors(dtypeNode.asText());
        } catch (IllegalArgumentException e) {
            throw new TensorFormatException(where + ": " + e.getMessage());
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeLong(shapeNode.get(i), where + ": dimension " + i + " of shape " + shapeNode);
        }
        long begin = nonNegativeLong(offsets.get(0), where + ": data_offsets begin");
        long end = nonNegativeLong(offsets.get(1), where + ": data_offsets end");
        if (end < begin || end > dataSize) {
            throw new TensorFormatException(where + ": data_offsets [" + begin + ", " + end
                    + "] are outside the data section of " + dataSize + " bytes");
        }
        TensorInfo info = new TensorInfo(name, dtype, shape, begin, end);
        long bytes;
        try {
            bytes = Math.multiplyExact(info.elementCount(), (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new TensorFormatException(where + ": shape " + shapeNode + " of " + dtype
                    + " overflows a 64-bit byte count");
        }
        if (bytes != end - begin) {
            throw new TensorFormatException(where + ": shape " + shapeNode + " of " + dtype + " needs "
                    + bytes + " bytes but data_offsets [" + begin + ", " + end + "] hold " + (end - begin));
        }
        return info;
    }

    private static long nonNegativeLong(JsonNode n, String what) {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
            throw new TensorFormatException(what + " must be a non-negative 64-bit integer, got " + n);
        }
        return n.asLong();
    }
}
