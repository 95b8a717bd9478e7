package dev.tailor.io;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Set;

/**
 * A {@link TensorSource} passing its tensors, their bytes, files and closing to another, for tests that change one
 * behaviour of a real source: the optional methods ({@code release}, {@code dropMappedPages}, {@code mappedInPlace},
 * {@code storedRows}) keep the interface's defaults unless a subclass passes them on.
 */
public class ForwardingTensorSource implements TensorSource {
    /** The source passed to. */
    protected final TensorSource inner;

    /** A source passing to {@code inner}. */
    public ForwardingTensorSource(TensorSource inner) {
        this.inner = inner;
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
        return inner.info(name);
    }

    @Override
    public MemorySegment data(String name) {
        return inner.data(name);
    }

    @Override
    public Path file(String name) {
        return inner.file(name);
    }

    @Override
    public void close() {
        inner.close();
    }
}
