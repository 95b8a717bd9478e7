package dev.tailor.model;

import dev.tailor.io.TensorInfo;
import dev.tailor.io.TensorSource;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The identity of a base model: {@code "sha256:" + 64 hex digits}, a SHA-256 over the architecture and every byte
 * of every weight. Adapters record it so that applying one to a different base can be refused.
 *
 * <p><b>What is hashed.</b> The architecture as {@link ModelConfig} reads it (model type, sizes, heads, RoPE,
 * norms, tying, biases) — so cosmetic {@code config.json} fields such as {@code _name_or_path},
 * {@code transformers_version}, {@code torch_dtype} or {@code architectures} do not count, nor do token ids, which
 * steer generation but not the network. Then every tensor in name order: its name, dtype, shape and all its bytes.
 * Sharding is invisible: the same tensors in one file or in shards give the same fingerprint.
 *
 * <p><b>Cost, and why every byte.</b> Hashing is one sequential pass over the weights at SHA-256 speed (about
 * 1.5 GB/s on one core with the SHA extensions; measured 1.56 GB/s on the development machine), so a 1B model in
 * BF16 (2.5 GB) takes under 2 s and an 8B model (16 GB) about 10 s, plus the time to read it from disk if it is not
 * in the page cache. A sampled hash (first, last and strided chunks per tensor) would be O(#tensors), but it can
 * miss exactly the edits that matter here: a few fine-tuned rows, a merged low-rank update confined to some
 * layers, a model-editing patch of one MLP row. The fingerprint is meant to be computed once per base (when it is
 * pulled, fine-tuned or first served) and stored beside what depends on it, so an exact identity is worth seconds.
 */
public final class BaseFingerprint {
    /** Record components of {@link ModelConfig} that do not define the network and are left out of the hash. */
    static final Set<String> NOT_ARCHITECTURE = Set.of("bosTokenId", "eosTokenIds");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK = 1 << 24;
    private static final byte[] DOMAIN = "tailor base fingerprint v1".getBytes(StandardCharsets.UTF_8);

    private BaseFingerprint() {
    }

    /** Fingerprint of the model in {@code dir} ({@code config.json} and its safetensors weights), or of a GGUF file. */
    public static String compute(Path dir) {
        ModelConfig config = ModelConfig.load(dir);
        try (TensorSource tensors = LlamaModel.openWeights(dir)) {
            return compute(config, tensors);
        }
    }

    /**
     * Fingerprint from the bytes of a {@code config.json} and the weights.
     *
     * @throws ConfigException when the config is not valid JSON or not a supported architecture
     */
    public static String compute(byte[] configJson, TensorSource tensors) {
        JsonNode root;
        try {
            root = JSON.readTree(configJson);
        } catch (IOException e) {
            throw new ConfigException("config.json: not valid JSON: " + e.getMessage(), e);
        }
        return compute(ModelConfig.parse(Path.of("config.json"), root), tensors);
    }

    /** Fingerprint from a parsed config and the weights. */
    public static String compute(ModelConfig config, TensorSource tensors) {
        MessageDigest md = sha256();
        putBytes(md, DOMAIN);
        Map<String, String> fields = canonicalConfig(config);
        putLong(md, fields.size());
        fields.forEach((k, v) -> {
            putString(md, k);
            putString(md, v);
        });
        List<String> names = tensors.names().stream().sorted().toList();
        putLong(md, names.size());
        for (String name : names) {
            TensorInfo info = tensors.info(name);
            putString(md, name);
            putString(md, info.dtype().name());
            putLong(md, info.shape().length);
            for (long d : info.shape()) {
                putLong(md, d);
            }
            MemorySegment data = tensors.data(name);
            putLong(md, data.byteSize());
            for (long off = 0; off < data.byteSize(); off += CHUNK) {
                md.update(data.asSlice(off, Math.min(CHUNK, data.byteSize() - off)).asByteBuffer());
            }
        }
        return "sha256:" + HexFormat.of().formatHex(md.digest());
    }

    /** The architecture fields, by record component name, as stable strings. */
    static Map<String, String> canonicalConfig(ModelConfig c) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("modelType", c.modelType());
        f.put("hiddenSize", Integer.toString(c.hiddenSize()));
        f.put("intermediateSize", Integer.toString(c.intermediateSize()));
        f.put("numLayers", Integer.toString(c.numLayers()));
        f.put("numHeads", Integer.toString(c.numHeads()));
        f.put("numKvHeads", Integer.toString(c.numKvHeads()));
        f.put("headDim", Integer.toString(c.headDim()));
        f.put("rmsNormEps", Double.toString(c.rmsNormEps()));
        f.put("ropeTheta", Double.toString(c.ropeTheta()));
        RopeScaling rs = c.ropeScaling();
        f.put("ropeScaling", rs == null ? "none" : rs.type() + "," + rs.factor() + "," + rs.lowFreqFactor() + ","
                + rs.highFreqFactor() + "," + rs.originalMaxPositionEmbeddings());
        f.put("vocabSize", Integer.toString(c.vocabSize()));
        f.put("maxPositions", Integer.toString(c.maxPositions()));
        f.put("tieWordEmbeddings", Boolean.toString(c.tieWordEmbeddings()));
        f.put("attentionBias", Boolean.toString(c.attentionBias()));
        f.put("qkNorm", Boolean.toString(c.qkNorm()));
        return f;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK provides SHA-256", e);
        }
    }

    private static void putString(MessageDigest md, String s) {
        putBytes(md, s.getBytes(StandardCharsets.UTF_8));
    }

    private static void putBytes(MessageDigest md, byte[] b) {
        putLong(md, b.length);
        md.update(b);
    }

    private static void putLong(MessageDigest md, long v) {
        md.update(ByteBuffer.allocate(8).putLong(0, v));
    }
}
