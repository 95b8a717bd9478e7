package dev.tailor.cost;

import dev.tailor.adapt.AdapterShape;
import dev.tailor.model.ModelConfig;
import dev.tailor.train.FreezePlan;
import dev.tailor.train.ModelExport;
import dev.tailor.train.TrainingMethod;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The analytic cost of training a method on a base and serving what it makes, before anything runs: parameters,
 * memory (weights, gradients, optimizer state, activations), FLOPs, time and money, the artifact, and the storage and
 * serving of several tenants.
 *
 * <ul>
 *   <li>Weights: a trainable tensor in the trainable precision; a frozen linear weight in the base's precision (a
 *   quantized one's block scales included); frozen embeddings and {@code lm_head} in the base's precision, BF16 when
 *   it is quantized; norms and biases as float32, which Tailor widens them to. An adapter's tensors (prefix tuning's
 *   projected prefix too) in the trainable precision.</li>
 *   <li>Gradients: one per trainable value, in the trainable precision.</li>
 *   <li>Optimizer state, float32 whatever the weights: AdamW keeps two moments (m and v), 8 bytes a trainable value;
 *   SGD with momentum one buffer, 4 bytes.</li>
 *   <li>Activations: {@link ActivationMemory}; FLOPs: {@link TrainingFlops}.</li>
 *   <li>Time: on a profile of datasheet figures (a GPU's), the FLOPs at the hardware's peak for the activations'
 *   precision times the utilisation, plus each update's optimizer traffic (weights read and written, gradients read,
 *   the state read and written) at its memory bandwidth. On {@code this-machine}, whose kernels were measured, every
 *   sequence's pass priced product by product at its own shape, with its element-wise work and overheads, plus each
 *   update's optimizer step ({@link PassTime}); a utilisation given explicitly prices it as a datasheet profile.
 *   Money: the hours at the price.</li>
 *   <li>Artifact: what {@code tailor train} saves — an adapter's {@code adapter_model.safetensors} (float32) and
 *   {@code adapter_config.json}, worked out to the byte from the method's {@link AdapterShape}; or, for full and partial
 *   fine-tuning, the whole model ({@code model.safetensors} in the save precision, {@code config.json}, the tokenizer
 *   files).</li>
 *   <li>Storage of N tenants: N whole models, or one base checkpoint and N adapters. Serving N tenants from one
 *   process: N whole models' weights, or the base's once and N adapters (float32, as Tailor loads them); the KV cache
 *   (float32 keys and values of every layer) is given per sequence.</li>
 * </ul>
 */
public final class CostModel {
    /** The length of a base fingerprint ({@code sha256:} and 64 hex digits), which a saved adapter records. */
    private static final String FINGERPRINT = "sha256:" + "0".repeat(64);

    private CostModel() {
    }

    /**
     * The cost of {@code method} on {@code base} with {@code settings}.
     *
     * @throws dev.tailor.adapt.InvalidOptionException naming an option of the method whose value is wrong
     * @throws IllegalArgumentException                when the adapter does not fit the base
     */
    public static CostEstimate estimate(CostBase base, TrainingMethod method, CostSettings settings) {
        ModelConfig config = base.config();
        AdapterShape adapter = switch (method) {
            case TrainingMethod.FineTuning f -> null;
            case TrainingMethod.AdapterTraining a -> a.method().shape(a.name(), a.options(), config, base.name());
        };
        FreezePlan plan = method instanceof TrainingMethod.FineTuning f ? f.plan() : null;
        TrainedParts parts = TrainedParts.of(config, plan != null ? plan : name -> false, adapter);
        Precision frozen = settings.baseDtype() != null ? settings.baseDtype() : base.dtype();
        Precision trainable = settings.trainableDtype();
        int virtual = parts.promptTokens() + parts.prefixTokens();
        int n = Math.max(1, Math.min(settings.seqLen(), config.maxPositions() - virtual));

        long trainableValues = parts.trainableValues();
        Set<String> trained = new HashSet<>(parts.trainableBase().stream().map(BaseTensors.Tensor::name).toList());
        long weights = 0;
        long inPlace = 0;
        boolean mapped = frozen == base.dtype() && frozen.isFloat();
        for (BaseTensors.Tensor t : BaseTensors.of(config)) {
            boolean trains = trained.contains(t.name());
            weights += trains ? trainable.bytes(t.size()) : frozenBytes(t, frozen);
            if (!trains && mapped && t.isMatrix()) {
                inPlace += frozenBytes(t, frozen);
            }
        }
        if (adapter != null) {
            weights += trainable.bytes(adapter.trainingCount());
        }
        long gradients = trainable.bytes(trainableValues);
        long stateBytes = switch (settings.optimizer()) {
            case ADAMW -> 2L * Float.BYTES;
            case SGD -> Float.BYTES;
        };
        long optimizer = stateBytes * trainableValues;
        long without = settings.activationDtype().bytes(ActivationMemory.values(parts, n, false));
        long with = settings.activationDtype().bytes(ActivationMemory.values(parts, n, true));
        CostEstimate.Memory memory = new CostEstimate.Memory(weights, gradients, optimizer,
                settings.gradientCheckpointing() ? with : without, without, with, settings.hardware().memoryBytes(),
                inPlace);

        double lossRows = settings.lossShare() * n;
        CostEstimate.Flops flops = TrainingFlops.perToken(parts, n, lossRows, settings.gradientCheckpointing());
        CostEstimate.Time time = settings.kernelPriced()
                ? kernelTime(settings, parts, method.name(), n, lossRows, flops)
                : time(settings, flops, trainableValues);

        Precision saved = settings.saveDtype() != null ? settings.saveDtype() : frozen.isFloat() ? frozen
                : Precision.BF16;
        long modelBytes = modelBytes(base, saved);
        long artifact = adapter != null ? adapter.savedBytes(FINGERPRINT) : modelBytes;
        int tenants = settings.tenants();
        CostEstimate.Tenants storage = adapter != null
                ? new CostEstimate.Tenants(tenants, checkpointBytes(base, frozen), artifact)
                : new CostEstimate.Tenants(tenants, 0, artifact);
        CostEstimate.Tenants serving = adapter != null
                ? new CostEstimate.Tenants(tenants, servedBytes(config, frozen), (long) Float.BYTES * adapter.savedCount())
                : new CostEstimate.Tenants(tenants, 0, servedBytes(config, saved));
        long kvCache = 2L * config.numLayers() * config.kvDim() * Float.BYTES * (n + virtual);

        long baseParameters = base.parameters();
        long adapterParameters = adapter == null ? 0 : adapter.trainableCount();
        return new CostEstimate(method.name(), describe(method, plan, adapter), baseParameters,
                baseParameters + adapterParameters, trainableValues, parts.stopLayer(), n, memory, flops, time,
                artifact, modelBytes, storage, serving, kvCache);
    }

    private static CostEstimate.Time time(CostSettings settings, CostEstimate.Flops flops, long trainableValues) {
        long tokens = settings.tokens();
        double total = flops.perToken() * tokens;
        double compute = total / (settings.hardware().peakFlops(settings.activationDtype())
                * settings.effectiveUtilization());
        long perUpdate = (long) settings.seqLen() * settings.batchSize() * settings.gradAccum();
        long updates = (tokens + perUpdate - 1) / perUpdate;
        double weightBytes = settings.trainableDtype().bits() / 8;
        double stateTraffic = switch (settings.optimizer()) {
            case ADAMW -> 4.0 * Float.BYTES;
            case SGD -> 2.0 * Float.BYTES;
        };
        double traffic = trainableValues * (2 * weightBytes + weightBytes + stateTraffic);
        double optimizer = updates * traffic / settings.hardware().bandwidth();
        return new CostEstimate.Time(tokens, total, updates, compute, optimizer,
                (compute + optimizer) / 3600 * settings.price());
    }

    /**
     * The time on a machine whose kernels were measured: every sequence's pass as {@link PassTime} prices it, by the
     * shapes of its products, and every update's optimizer step.
     */
    private static CostEstimate.Time kernelTime(CostSettings settings, TrainedParts parts, String method, int n,
                                                double lossRows, CostEstimate.Flops flops) {
        long tokens = settings.tokens();
        KernelTimes kernels = settings.hardware().kernels();
        long perUpdate = (long) settings.seqLen() * settings.batchSize() * settings.gradAccum();
        long updates = (tokens + perUpdate - 1) / perUpdate;
        double passes = (double) tokens / n;
        double compute = passes * PassTime.perSequence(parts, method, n, lossRows, settings.gradientCheckpointing(),
                kernels);
        double optimizer = updates * PassTime.perUpdate(parts, kernels);
        return new CostEstimate.Time(tokens, flops.perToken() * tokens, updates, compute, optimizer,
                (compute + optimizer) / 3600 * settings.price());
    }

    /** The bytes a frozen tensor takes in memory at precision {@code p}. */
    private static long frozenBytes(BaseTensors.Tensor t, Precision p) {
        return switch (t.kind()) {
            case LINEAR -> p.bytes(t.size());
            case EMBEDDING, HEAD -> (p.isFloat() ? p : Precision.BF16).bytes(t.size());
            case VECTOR -> Precision.F32.bytes(t.size());
        };
    }

    /** The weights a served model of {@code config} holds at precision {@code p}. */
    private static long servedBytes(ModelConfig config, Precision p) {
        return BaseTensors.of(config).stream().mapToLong(t -> frozenBytes(t, p)).sum();
    }

    /** One whole model as {@code tailor train} saves a fine-tuned one, every tensor in {@code p}. */
    private static long modelBytes(CostBase base, Precision p) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        BaseTensors.of(base.config()).forEach(t -> shapes.put(t.name(), t.shape()));
        return ModelExport.savedBytes(base.configJson(), shapes, p.dtype(), base.tokenizerDir());
    }

    /**
     * The base's checkpoint at precision {@code p}: as {@link #modelBytes} for a float type; for a quantized one its
     * tensors as {@link #frozenBytes} counts them, with the config and tokenizer files.
     */
    private static long checkpointBytes(CostBase base, Precision p) {
        if (p.isFloat()) {
            return modelBytes(base, p);
        }
        try {
            return servedBytes(base.config(), p) + base.configJson().toString().getBytes(StandardCharsets.UTF_8).length
                    + ModelExport.tokenizerBytes(base.tokenizerDir());
        } catch (IOException e) {
            throw new UncheckedIOException(base.tokenizerDir() + ": " + e.getMessage(), e);
        }
    }

    private static String describe(TrainingMethod method, FreezePlan plan, AdapterShape adapter) {
        if (plan != null) {
            return plan.describe();
        }
        TrainingMethod.AdapterTraining a = (TrainingMethod.AdapterTraining) method;
        int virtual = adapter.promptTokens() + adapter.prefixTokens();
        return a.method().summary() + (adapter.pieces().isEmpty() ? "; " + virtual + " virtual tokens"
                : "; " + adapter.pieces().size() + " sites");
    }
}
