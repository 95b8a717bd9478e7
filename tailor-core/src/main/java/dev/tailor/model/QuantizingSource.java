package dev.tailor.model;

import dev.tailor.io.StoredRows;
import dev.tailor.io.TensorFormatException;
import dev.tailor.io.TensorInfo;
import dev.tailor.io.TensorSource;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.FiniteScan;
import dev.tailor.tensor.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * A model's tensors with its weight matrices quantized as {@link LoadOptions} says: each is quantized into native
 * memory when first read, after its values are checked finite, and the file's pages it came from are then
 * {@linkplain TensorSource#release released}, so the quantized copy is what stays resident. Other tensors are the
 * underlying source's.
 */
final class QuantizingSource implements TensorSource {
    private static final String EMBED = "model.embed_tokens.weight";
    private static final String LM_HEAD = "lm_head.weight";

    private final TensorSource inner;
    private final Map<String, DType> targets = new HashMap<>();
    private final Map<String, MemorySegment> quantized = new HashMap<>();
    private final Arena arena = Arena.ofShared();

    QuantizingSource(TensorSource inner, ModelConfig config, LoadOptions options) {
        this.inner = inner;
        boolean tiedOutput = config.tieWordEmbeddings() && !inner.contains(LM_HEAD);
        for (String name : inner.names()) {
            TensorInfo info = inner.info(name);
            long[] shape = info.shape();
            if (shape.length != 2 || !info.dtype().isWeightType() || shape[1] % options.quantize().blockSize() != 0) {
                continue;
            }
            boolean output = name.equals(LM_HEAD) || (tiedOutput && name.equals(EMBED));
            targets.put(name, output ? options.outputType() : options.quantize());
        }
    }

    @Override
    public Set<String> names() {
        return inner.names();
    }

    @Override
    public boolean contains(String name) {
        return inner.contains(name);
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo info = inner.info(name);
        DType type = targets.get(name);
        if (type == null) {
            return info;
        }
        return new TensorInfo(name, type, info.shape(), 0, info.shape()[0] * type.bytesFor(info.shape()[1]));
    }

    @Override
    public MemorySegment data(String name) {
        DType type = targets.get(name);
        if (type == null) {
            return inner.data(name);
        }
        synchronized (quantized) {
            return quantized.computeIfAbsent(name, n -> quantize(n, type));
        }
    }

    private MemorySegment quantize(String name, DType type) {
        TensorInfo info = inner.info(name);
        MemorySegment data = inner.data(name);
        long bad = FiniteScan.firstNonFinite(data, info.dtype());
        if (bad >= 0) {
            throw new TensorFormatException(inner.file(name) + ": tensor " + name + " has a non-finite value ("
                    + FiniteScan.valueAt(data, info.dtype(), bad) + ") at element " + bad);
        }
        WeightMatrix stored = new WeightMatrix(data, info.dtype(), Math.toIntExact(info.shape()[0]),
                Math.toIntExact(info.shape()[1]));
        MemorySegment out = WeightMatrix.quantize(stored, type, arena).data();
        inner.release(name);
        return out;
    }

    /** Passes to the file for a tensor it does not quantize; a quantized one is held in memory. */
    @Override
    public void dropMappedPages(String name, long from, long to) {
        if (!targets.containsKey(name)) {
            inner.dropMappedPages(name, from, to);
        }
    }

    /** As the file says for a tensor it does not quantize; a quantized one is held in memory. */
    @Override
    public boolean mappedInPlace(String name) {
        return !targets.containsKey(name) && inner.mappedInPlace(name);
    }

    /** As the file says for a tensor it does not quantize; a quantized one is its own copy. */
    @Override
    public StoredRows storedRows(String name) {
        return targets.containsKey(name) ? null : inner.storedRows(name);
    }

    @Override
    public Path file(String name) {
        return inner.file(name);
    }

    @Override
    public void close() {
        arena.close();
        inner.close();
    }
}
