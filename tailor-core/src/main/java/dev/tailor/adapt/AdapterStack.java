package dev.tailor.adapt;

import dev.tailor.adapt.lora.LoraAdapter;
import dev.tailor.adapt.lora.PeftLoraAdapter;
import dev.tailor.io.BaseFingerprint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adapters read from directories and stacked in the order given (a domain adapter, then a client adapter …),
 * as the sites map that {@link dev.tailor.model.LlamaModel#withAdapters} takes. Each adapter that records the
 * fingerprint of the base it was trained on must match the base it is applied to, unless forced.
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
    public static Map<String, List<LinearAdapter>> load(List<Path> dirs, Path baseDir, boolean force) {
        Map<String, List<LinearAdapter>> sites = new LinkedHashMap<>();
        String baseFingerprint = null;
        for (Path dir : dirs) {
            String recorded = PeftLoraAdapter.baseFingerprint(dir);
            if (recorded != null && !force) {
                if (baseFingerprint == null) {
                    baseFingerprint = BaseFingerprint.compute(baseDir);
                }
                if (!recorded.equals(baseFingerprint)) {
                    throw new IllegalArgumentException("adapter " + dir + " was trained on base " + recorded
                            + " but " + baseDir + " is " + baseFingerprint + " (use --force to apply it anyway)");
                }
            }
            for (Map.Entry<String, LoraAdapter> e : PeftLoraAdapter.load(dir).entrySet()) {
                sites.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(e.getValue());
            }
        }
        return sites;
    }
}
