package dev.tailor.io;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/** Structural checks on a safetensors header that involve more than one tensor. */
final class SafetensorsValidation {
    private SafetensorsValidation() {
    }

    /** Rejects tensors whose byte ranges overlap. */
    static void checkNoOverlap(Path path, Collection<TensorInfo> tensors) {
        List<TensorInfo> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo prev = sorted.get(i - 1);
            TensorInfo cur = sorted.get(i);
            if (cur.begin() < prev.end() && cur.byteSize() > 0 && prev.byteSize() > 0) {
                throw new TensorFormatException(path + ": tensors " + prev.name() + " [" + prev.begin() + ", "
                        + prev.end() + ") and " + cur.name() + " [" + cur.begin() + ", " + cur.end() + ") overlap");
            }
        }
    }
}
