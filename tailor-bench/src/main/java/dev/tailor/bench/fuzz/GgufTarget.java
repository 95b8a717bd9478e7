package dev.tailor.bench.fuzz;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.bench.BenchShape;
import dev.tailor.bench.RandomModel;
import dev.tailor.io.TensorFormatException;
import dev.tailor.io.gguf.GgmlType;
import dev.tailor.model.ConfigException;
import dev.tailor.model.GgufExport;
import dev.tailor.model.LlamaModel;
import dev.tailor.tensor.DType;
import dev.tailor.tokenizer.TokenizerException;
import dev.tailor.tokenizer.Tokenizers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The {@code gguf} fuzz target: a tiny model exported as GGUF (F32, Q8_0 and Q4_0 files, with a SentencePiece
 * tokenizer), its bytes damaged or one of its numbers overwritten, through {@link LlamaModel#load} (config from the
 * metadata, tensors bound and checked), {@link Tokenizers#load} and a two-token prefill: a model that runs, or a
 * {@link TensorFormatException}, {@link ConfigException} or {@link TokenizerException} naming the file.
 *
 * <p>The numbers overwritten are found by name: after the magic, the version and the tensor and key counts; a
 * metadata key's or a tensor name's own length; after a metadata key, its value's type and the value (or an array's
 * element type, count and first elements, or a string's length); after a tensor's name, its dimension count,
 * dimensions, type and offset. Each is replaced by a number at an edge ({@link HostileJson#extremeLong}), 4 or 8
 * bytes wide.
 */
final class GgufTarget {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Names whose following bytes the structured mutations overwrite: metadata keys and tensor names. */
    private static final List<String> NAMES = List.of("GGUF", "general.architecture", "general.alignment",
            "llama.block_count", "llama.context_length", "llama.embedding_length", "llama.feed_forward_length",
            "llama.attention.head_count", "llama.attention.head_count_kv", "llama.rope.dimension_count",
            "llama.rope.freq_base", "llama.attention.layer_norm_rms_epsilon", "llama.vocab_size",
            "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type",
            "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
            "general.file_type", "token_embd.weight", "output_norm.weight", "blk.0.attn_q.weight",
            "blk.0.attn_k.weight", "blk.0.attn_v.weight", "blk.1.ffn_down.weight", "blk.1.attn_norm.weight");
    /** Offsets after a name at which a number is overwritten (-8: the name's own length). */
    private static final int[] OFFSETS = {-8, 0, 4, 8, 12, 16, 20, 24, 28, 32};
    private static final List<Seed> SEEDS = seeds();

    private GgufTarget() {
    }

    /** A seed file: its type, and its bytes. */
    private record Seed(GgmlType type, byte[] bytes) {
    }

    static FuzzTarget.Trial draw(SplittableRandom rnd, Path dir) throws IOException {
        Seed seed = SEEDS.get(rnd.nextInt(SEEDS.size()));
        byte[] bytes = seed.bytes().clone();
        List<String> changes = new ArrayList<>();
        if (rnd.nextInt(4) == 0) {
            bytes = HostileJson.damage(bytes, rnd);
            changes.add("damaged to " + bytes.length + " bytes");
        } else {
            int n = rnd.nextInt(1, 4);
            for (int i = 0; i < n; i++) {
                changes.add(overwrite(bytes, rnd));
            }
        }
        Path file = dir.resolve("model.gguf");
        Files.write(file, bytes);
        return new FuzzTarget.Trial(seed.type() + " file, " + String.join("; ", changes), () -> {
            try (LlamaModel model = LlamaModel.load(file)) {
                Tokenizers.load(file).encode("hello", true);
                int[] prompt = {0, Math.min(1, model.config().vocabSize() - 1)};
                int tokens = Math.min(prompt.length, model.contextLength());
                model.prefill(model.newCache(tokens), Arrays.copyOf(prompt, tokens));
            }
        }, List.of(TensorFormatException.class, ConfigException.class, TokenizerException.class),
                List.of(file.toString()));
    }

    /** Overwrites a number after a random occurrence of one of {@link #NAMES}; says what it wrote where. */
    private static String overwrite(byte[] bytes, SplittableRandom rnd) {
        String name = NAMES.get(rnd.nextInt(NAMES.size()));
        int at = indexOf(bytes, name.getBytes(StandardCharsets.UTF_8));
        if (at < 0) {
            return name + " not in the file";
        }
        int pos = at + name.length() + OFFSETS[rnd.nextInt(OFFSETS.length)];
        int width = rnd.nextBoolean() ? 4 : 8;
        long value = HostileJson.extremeLong(rnd);
        if (pos < 0 || pos + width > bytes.length) {
            return name + " too near the file's edge";
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (width == 4) {
            b.putInt(pos, (int) value);
        } else {
            b.putLong(pos, value);
        }
        return value + " as " + width + " bytes at " + (pos - at - name.length()) + " after \"" + name + "\"";
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** The seed files: a tiny random model (dim 64, 2 layers) and a SentencePiece tokenizer, as F32, Q8_0 and Q4_0. */
    private static List<Seed> seeds() {
        try {
            Path dir = Files.createTempDirectory("tailor-fuzz-gguf-");
            try {
                Files.write(dir.resolve(Tokenizers.TOKENIZER_JSON),
                        JSON.writeValueAsBytes(Seeds.sentencePieceTokenizer()));
                Files.write(dir.resolve(Tokenizers.TOKENIZER_CONFIG_JSON),
                        JSON.writeValueAsBytes(Seeds.sentencePieceTokenizerConfig()));
                int vocab = Tokenizers.load(dir).vocabSize();
                BenchShape shape = new BenchShape(64, 2, 4, 2, 64, vocab, 8, 1, 4, 4, 1, 0, DType.F32);
                List<Seed> seeds = new ArrayList<>();
                for (GgmlType type : List.of(GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0)) {
                    Path file = dir.resolve(type + ".gguf");
                    GgufExport.write(file, shape.config(), RandomModel.weights(shape, 1), dir, "tiny-random", type);
                    seeds.add(new Seed(type, Files.readAllBytes(file)));
                    Files.delete(file);
                }
                return List.copyOf(seeds);
            } finally {
                Files.deleteIfExists(dir.resolve(Tokenizers.TOKENIZER_JSON));
                Files.deleteIfExists(dir.resolve(Tokenizers.TOKENIZER_CONFIG_JSON));
                Files.delete(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
