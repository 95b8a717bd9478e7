package dev.tailor.train.nn;

import dev.tailor.model.site.AdapterSites;
import dev.tailor.model.site.LinearHook;
import dev.tailor.model.site.SublayerHook;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tensor.Parameter;

import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Creates the parameters of a {@link TrainableLlama}: a trainable copy of each base tensor the predicate names (the
 * frozen ones stay views of the base), the adapters' tensors once each, and the layers over them.
 *
 * @param trainable which base tensors train
 * @param params    receives the parameters, in model order
 * @param adapters  the adapter's pieces at their sites
 */
record ParameterBinder(Predicate<String> trainable, List<Parameter> params, AdapterSites adapters) {

    Parameter matrixParam(String name, WeightMatrix w) {
        if (!trainable.test(name)) {
            return null;
        }
        Parameter p = new Parameter(name, new long[] {w.rows(), w.cols()}, floats(w));
        params.add(p);
        return p;
    }

    Linear linear(String prefix, WeightMatrix w, float[] bias) {
        Parameter p = matrixParam(prefix + ".weight", w);
        Parameter bp = null;
        float[] b = bias;
        if (bias != null && trainable.test(prefix + ".bias")) {
            bp = new Parameter(prefix + ".bias", new long[] {bias.length}, bias.clone());
            params.add(bp);
            b = bp.data();
        }
        LinearHook adapter = adapters.linear().get(prefix);
        if (adapter != null) {
            adapter.checkFits(prefix, w.rows(), w.cols());
            addOnce(adapter.parameters());
        }
        return new Linear(p != null ? view(p, w) : w, p, b, bp, adapter);
    }

    /** Lists prompt or prefix tuning's tensor, in model order (before the blocks). */
    void virtualTokens(AdapterSites sites) {
        if (sites.promptEmbeddings() != null) {
            addOnce(List.of(sites.promptEmbeddings()));
        }
        if (sites.prefixEncoder() != null) {
            addOnce(sites.prefixEncoder().parameters());
        } else if (sites.prefix() != null) {
            addOnce(List.of(sites.prefix()));
        }
    }

    SublayerHook sublayer(String site, int hidden) {
        SublayerHook adapter = adapters.sublayer().get(site);
        if (adapter != null) {
            adapter.checkFits(site, hidden);
            addOnce(adapter.parameters());
        }
        return adapter;
    }

    /** Adds parameters not yet listed (adapters may share tensors across sites). */
    private void addOnce(List<Parameter> list) {
        for (Parameter p : list) {
            if (params.stream().noneMatch(q -> q == p)) {
                params.add(p);
            }
        }
    }

    Norm norm(String name, float[] weight, float eps) {
        if (!trainable.test(name)) {
            return new Norm(weight, null, eps);
        }
        Parameter p = new Parameter(name, new long[] {weight.length}, weight.clone());
        params.add(p);
        return new Norm(p.data(), p, eps);
    }

    /**
     * The weight as a float array: adopted when it already is a whole heap float array, else widened (a quantized
     * weight is dequantized: it then trains in F32 from its quantized values).
     */
    private static float[] floats(WeightMatrix w) {
        long count = (long) w.rows() * w.cols();
        Optional<Object> heap = w.data().heapBase();
        if (w.dtype() == DType.F32 && heap.isPresent() && heap.get() instanceof float[] arr
                && arr.length == count && w.data().address() == 0) {
            return arr;
        }
        float[] out = new float[Math.toIntExact(count)];
        for (int r = 0; r < w.rows(); r++) {
            w.copyRow(r, out, r * w.cols());
        }
        return out;
    }

    /** A trainable parameter's values seen as a weight of {@code like}'s shape. */
    static WeightMatrix view(Parameter p, WeightMatrix like) {
        return WeightMatrix.of(p.data(), like.rows(), like.cols());
    }
}
