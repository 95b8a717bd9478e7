package dev.tailor.adapt.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.tensor.Parameter;
import dev.tailor.tensor.Svd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.StreamSupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SVD combination types against PEFT's {@code _svd_generalized_task_arithmetic_weighted_adapter} computed with
 * torch ({@code svd-combine-cases.json}, made by {@code make_svd_combine_cases.py} beside it, which says how), and
 * the properties that make the result a function of the inputs alone: it does not depend on the seed (beyond DARE's
 * mask), and with {@code svd_rank} above the rank of ΔW the pair is what PEFT's full SVD gives.
 */
class LoraCombineSvdReferenceTest {
    private static final JsonNode CASES = load();

    private static JsonNode load() {
        try (InputStream in = LoraCombineSvdReferenceTest.class.getResourceAsStream("svd-combine-cases.json")) {
            return new ObjectMapper().readTree(in).get("cases");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<String> cases() {
        return StreamSupport.stream(CASES.spliterator(), false).map(c -> c.get("name").asText()).toList();
    }

    private static JsonNode named(String name) {
        for (JsonNode c : CASES) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException(name);
    }

    /** Reads a list of decimals as torch does: decimal → double → float32. */
    private static float[] floats(JsonNode values) {
        float[] f = new float[values.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values.get(i).asDouble();
        }
        return f;
    }

    private static List<LoraModel> adapters(JsonNode c) {
        String module = c.get("module").asText();
        int in = c.get("in").asInt();
        int out = c.get("out").asInt();
        List<LoraModel> adapters = new ArrayList<>();
        for (JsonNode p : c.get("adapters")) {
            int r = p.get("r").asInt();
            double alpha = p.get("alpha").asDouble();
            boolean rslora = p.get("rslora").asBoolean();
            String prefix = "base_model.model." + module;
            LoraLayer pair = new LoraLayer(new Parameter(prefix + ".lora_A.weight", new long[] {r, in}, floats(p.get("A"))),
                    new Parameter(prefix + ".lora_B.weight", new long[] {out, r}, floats(p.get("B"))),
                    (float) (rslora ? alpha / Math.sqrt(r) : alpha / r));
            LoraConfig settings = new LoraConfig(r, alpha, 0, List.of("down_proj"), rslora, null);
            adapters.add(new LoraModel(settings, Map.of(module, pair), Map.of(), Map.of()));
        }
        return adapters;
    }

    private static CombineOptions options(JsonNode c, long seed) {
        return new CombineOptions(CombinationType.parse(c.get("type").asText()),
                c.get("density").isNull() ? null : c.get("density").asDouble(),
                MajoritySignMethod.valueOf(c.get("majority_sign_method").asText().toUpperCase()),
                c.get("svd_rank").asInt(), c.get("svd_clamp").isNull() ? null : c.get("svd_clamp").asDouble(), seed);
    }

    private static LoraLayer combine(JsonNode c, long seed) {
        List<Double> weights = new ArrayList<>();
        c.get("weights").forEach(w -> weights.add(w.asDouble()));
        return LoraCombine.combine(adapters(c), weights, options(c, seed)).modules().get(c.get("module").asText());
    }

    /** {@code max|x − y| / max|y|}. */
    private static double relativeError(float[] x, float[] y) {
        double error = 0;
        double scale = 0;
        for (int i = 0; i < y.length; i++) {
            error = Math.max(error, Math.abs(x[i] - y[i]));
            scale = Math.max(scale, Math.abs(y[i]));
        }
        return error / scale;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void deltaMatchesPeftComputedWithTorch(String name) {
        JsonNode c = named(name);
        LoraLayer combined = combine(c, c.get("seed").asLong());
        int out = c.get("out").asInt();
        int in = c.get("in").asInt();
        assertEquals(Math.min(c.get("svd_rank").asInt(), Math.min(out, in)), combined.rank(), name);
        assertEquals(1f, combined.scale(), name);
        // without a clamp ΔW is PEFT's whatever signs and null-space basis LAPACK picked; with one, it is PEFT's
        // clamp of torch's SVD in Tailor's canonical form (the script says why)
        float[] expected = floats(c.has("delta") ? c.get("delta") : c.get("canonical"));
        double error = relativeError(combined.delta(), expected);
        assertTrue(error < 1e-5, name + ": max |ΔW − ΔW_torch| / max |ΔW_torch| = " + error);
    }

    @Test
    void prunedSvdTypesDoNotDependOnTheSeed() {
        for (String name : List.of("ties_svd_rank3", "ties_svd_rank18", "magnitude_prune_svd", "ties_svd_clamp",
                "svd_rank3")) {
            JsonNode c = named(name);
            LoraLayer first = combine(c, 0);
            for (long seed : new long[] {1, 42, -7}) {
                LoraLayer other = combine(c, seed);
                for (int t = 0; t < 2; t++) {
                    assertArrayEquals(first.parameters().get(t).data(), other.parameters().get(t).data(),
                            name + " seed " + seed);
                }
            }
        }
    }

    @Test
    void svdRankAboveTheRankOfDeltaCompletesAWithOrthonormalRows() {
        JsonNode c = named("svd_clamp_rank_above_rank_of_delta");
        List<Double> weights = List.of(1.0, 0.5);
        for (CombinationType type : List.of(CombinationType.SVD, CombinationType.MAGNITUDE_PRUNE_SVD)) {
            // ΔW = 1·s₁B₁A₁ + 0.5·s₂B₂A₂ has rank 4; magnitude_prune_svd at density 1 is the same sum, formed densely
            CombineOptions options = new CombineOptions(type, type.needsDensity() ? 1.0 : null,
                    MajoritySignMethod.TOTAL, 8, null, 0);
            LoraLayer combined = LoraCombine.combine(adapters(c), weights, options).modules()
                    .get(c.get("module").asText());
            int in = combined.in();
            int out = combined.out();
            assertEquals(8, combined.rank());
            float[] a = combined.parameters().get(0).data();
            float[] b = combined.parameters().get(1).data();
            for (int p = 0; p < 8; p++) {
                for (int q = 0; q < 8; q++) {
                    double dot = 0;
                    for (int j = 0; j < in; j++) {
                        dot += a[p * in + j] * a[q * in + j];
                    }
                    assertEquals(p == q ? 1 : 0, dot, 1e-6, type + ": A·Aᵀ = I, row " + p + " and " + q);
                }
            }
            for (int o = 0; o < out; o++) {
                for (int k = 4; k < 8; k++) {
                    assertEquals(0f, b[o * 8 + k], 0f, type + ": B's columns of zero singular values are zero");
                }
            }
            float[] exact = new float[out * in];
            List<LoraModel> parts = adapters(c);
            for (int p = 0; p < parts.size(); p++) {
                float[] d = parts.get(p).modules().values().iterator().next().delta();
                for (int i = 0; i < d.length; i++) {
                    exact[i] += (float) (weights.get(p) * d[i]);
                }
            }
            assertTrue(relativeError(combined.delta(), exact) < 1e-6, type + ": ΔW kept whole");
        }
    }

    @Test
    void canonicalFormFixesSignsAndCompletesBothSides() {
        SplittableRandom rnd = new SplittableRandom(5);
        // rank 2 [7, 3]·[3, 9] through a dependent factor: the third singular value is zero
        double[] b = new double[7 * 3];
        double[] a = new double[3 * 9];
        for (int i = 0; i < b.length; i++) {
            b[i] = rnd.nextDouble(-1, 1);
        }
        for (int i = 0; i < 7; i++) {
            b[i * 3 + 2] = b[i * 3] - 2 * b[i * 3 + 1];
        }
        for (int i = 0; i < a.length; i++) {
            a[i] = rnd.nextDouble(-1, 1);
        }
        Svd svd = Svd.ofProduct(b, a, 7, 3, 9, 3).canonical(6, 1e-12);
        assertEquals(6, svd.rank());
        assertEquals(0, svd.s()[2]);
        for (int k = 0; k < 6; k++) {
            int largest = 0;
            for (int i = 0; i < 7; i++) {
                if (Math.abs(svd.u()[i * 6 + k]) > Math.abs(svd.u()[largest * 6 + k])) {
                    largest = i;
                }
            }
            if (k < 2) {
                assertTrue(svd.u()[largest * 6 + k] > 0, "sign of pair " + k);
            }
            for (int q = 0; q < 6; q++) {
                double uu = 0;
                for (int i = 0; i < 7; i++) {
                    uu += svd.u()[i * 6 + k] * svd.u()[i * 6 + q];
                }
                double vv = 0;
                for (int j = 0; j < 9; j++) {
                    vv += svd.vt()[k * 9 + j] * svd.vt()[q * 9 + j];
                }
                assertEquals(k == q ? 1 : 0, uu, 1e-12, "UᵀU " + k + " " + q);
                assertEquals(k == q ? 1 : 0, vv, 1e-12, "VᵀV " + k + " " + q);
            }
        }
        // the same matrix decomposed densely gives the same canonical triplets
        double[] m = svd.reconstruct();
        Svd dense = Svd.of(m, 7, 9).canonical(6, 1e-12);
        for (int i = 0; i < svd.u().length; i++) {
            assertEquals(svd.u()[i], dense.u()[i], 1e-9, "U[" + i + "]");
        }
        for (int i = 0; i < svd.vt().length; i++) {
            assertEquals(svd.vt()[i], dense.vt()[i], 1e-9, "Vᵀ[" + i + "]");
        }
    }
}
