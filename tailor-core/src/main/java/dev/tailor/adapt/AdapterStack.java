package dev.tailor.adapt;

import dev.tailor.model.site.AdapterSites;
import dev.tailor.model.BaseFingerprint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Adapters read from directories and stacked in the order given (a domain adapter, then a client adapter …), as
 * {@link dev.tailor.model.LlamaModel#withAdapters} takes them. Each adapter that records the fingerprint of the base
 * it was trained on must match the base it is applied to, unless forced.
 */
public final class AdapterStack {
    private AdapterStack() {
    }

    /**
     * Loads {@code dirs} for the base in {@code baseDir}.
     *
     * @param force apply adapters trained on another base anyway (then {@code baseDir} is not read)
     * @throws IllegalArgumentException naming both fingerprints when an adapter belongs to another base
     */
    public static List<Adapter> load(List<Path> dirs, Path baseDir, boolean force) {
        List<Adapter> adapters = new ArrayList<>();
        String baseFingerprint = null;
        for (Path dir : dirs) {
            Adapter adapter = AdapterFiles.load(dir);
            String recorded = AdapterFiles.baseFingerprint(dir);
            if (recorded != null && !force) {
                if (baseFingerprint == null) {
                    baseFingerprint = BaseFingerprint.compute(baseDir);
                }
                if (!recorded.equals(baseFingerprint)) {
                    throw new InvalidOptionException("force", "adapter " + dir + " was trained on base " + recorded
                            + " but " + baseDir + " is " + baseFingerprint + " (use force to apply it anyway)");
                }
            }
            adapters.add(adapter);
        }
        return adapters;
    }

    /** The sites of each adapter, in order. */
    public static List<AdapterSites> sites(List<Adapter> adapters) {
        return adapters.stream().map(Adapter::sites).toList();
    }
}
