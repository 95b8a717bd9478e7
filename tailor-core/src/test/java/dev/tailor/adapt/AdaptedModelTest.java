package dev.tailor.adapt;

import java.util.Map;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.Shared;
import dev.tailor.adapt.lora.CombinationType;
import dev.tailor.adapt.lora.CombineOptions;
import dev.tailor.adapt.lora.LoraLayer;
import dev.tailor.adapt.lora.LoraCombine;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.adapt.lora.LoraConfig;
import dev.tailor.model.LayerWeights;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tensor.Parameter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PEFT's verbs over one tiny Llama: per-call choice, set, disable, delete, stack, combine, merge and unmerge. */
class AdaptedModelTest {
    private static final int[] IDS = {1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366};
    private static LlamaModel base;
    private static Path golden;

    @BeforeAll
    static void load() {
        golden = Shared.require("golden/tiny-llama/lora");
        base = LlamaModel.load(Shared.require("models/tiny-llama"));
    }

    @AfterAll
    static void close() {
        if (base != null) {
            base.close();
        }
    }

    /** A fresh LoRA adapter whose B is perturbed so it changes the model. */
    private static LoraModel random(ModelConfig config, List<String> targets, long seed) {
        LoraModel m = LoraModel.create(new LoraConfig(4, 8, 0, targets, false, null), config, seed);
        SplittableRandom rnd = new SplittableRandom(seed + 1000);
        for (LoraLayer a : m.modules().values()) {
            Parameter b = a.parameters().get(1);
            for (int i = 0; i < b.size(); i++) {
                b.data()[i] = (float) rnd.nextDouble(-0.05, 0.05);
            }
        }
        return m;
    }

    private static float[] logits(LlamaModel m) {
        return m.logits(m.forward(m.newCache(IDS.length), IDS), 0, IDS.length);
    }

    private static void assertBitwise(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]), what + " at " + i);
        }
    }

    private static double maxDiff(float[] x, float[] y) {
        double d = 0;
        for (int i = 0; i < x.length; i++) {
            d = Math.max(d, Math.abs(x[i] - y[i]));
        }
        return d;
    }

    @Test
    void verbsGiveEachAdapterTheBaseOrTheStack() {
        AdaptedModel model = new AdaptedModel(base, "sha256:tiny");
        LoraModel a = random(base.config(), List.of("q_proj", "v_proj", "down_proj"), 1);
        LoraModel b = random(base.config(), List.of("all-linear"), 2);
        model.add("golden", golden);
        model.add("a", a);
        model.add("b", b, "sha256:tiny");
        assertEquals(List.of("golden", "a", "b"), List.copyOf(model.names()));

        float[] plain = logits(base);
        float[] withA = logits(base.withAdapters(List.of(a.sites())));
        float[] withB = logits(base.withAdapters(List.of(b.sites())));
        float[] withGolden = logits(base.withAdapters(AdapterStack.sites(AdapterStack.load(List.of(golden), null,
                true))));
        assertTrue(maxDiff(plain, withA) > 1e-3 && maxDiff(withA, withB) > 1e-3, "the adapters change the logits");

        assertBitwise(withA, logits(model.model("a")), "per-call a");
        assertBitwise(withB, logits(model.model("b")), "per-call b");
        assertBitwise(withGolden, logits(model.model("golden")), "per-call golden");
        assertBitwise(plain, logits(model.model()), "nothing active is the base");
        assertSame(model.model("a"), model.model("a"), "views are cached");

        model.set("a");
        assertBitwise(withA, logits(model.model()), "active a");
        model.disable();
        assertFalse(model.enabled());
        assertBitwise(plain, logits(model.model()), "disabled is the base, bit for bit");
        model.enable();
        assertBitwise(withA, logits(model.model()), "enabled again");

        model.set("a", "b");
        float[] stacked = logits(model.model());
        assertBitwise(logits(base.withAdapters(List.of(a.sites(), b.sites()))), stacked, "stack of a then b");
        LlamaWeights mergedAb = model.merge();
        assertTrue(maxDiff(stacked, logits(new LlamaModel(base.config(), mergedAb, null))) <= 2e-5,
                "stacking two equals applying both");

        model.delete("b");
        assertEquals(List.of("a"), model.active());
        assertEquals(List.of("golden", "a"), List.copyOf(model.names()));
        var e = assertThrows(IllegalArgumentException.class, () -> model.model("b"));
        assertTrue(e.getMessage().contains("\"b\""), e.getMessage());
        assertBitwise(withA, logits(model.model()), "a still active after b is gone");
        assertBitwise(plain, logits(base), "the base never changes");
    }

    @Test
    void mergeGivesTheAdaptedLogitsAndUnmergeRestoresTheBase() {
        AdaptedModel model = new AdaptedModel(base, null);
        model.add("golden", golden);
        model.add("a", random(base.config(), List.of("all-linear"), 3));
        for (String[] names : new String[][] {{"golden"}, {"golden", "a"}}) {
            LlamaWeights merged = model.merge(names);
            double diff = maxDiff(logits(model.model(List.of(names))),
                    logits(new LlamaModel(base.config(), merged, null)));
            assertTrue(diff <= 2e-5, String.join("+", names) + ": merged vs adapted " + diff);
            LlamaWeights restored = model.unmerge(merged, names);
            for (int l = 0; l < base.config().numLayers(); l++) {
                LayerWeights w0 = base.weights().layers().get(l);
                LayerWeights w1 = restored.layers().get(l);
                WeightMatrix[][] pairs = {{w0.q(), w1.q()}, {w0.k(), w1.k()}, {w0.v(), w1.v()}, {w0.o(), w1.o()},
                    {w0.gate(), w1.gate()}, {w0.up(), w1.up()}, {w0.down(), w1.down()}};
                for (WeightMatrix[] p : pairs) {
                    float[] expected = new float[p[0].cols()];
                    float[] actual = new float[p[0].cols()];
                    for (int r = 0; r < p[0].rows(); r++) {
                        p[0].copyRow(r, expected, 0);
                        p[1].copyRow(r, actual, 0);
                        for (int c = 0; c < expected.length; c++) {
                            assertEquals(expected[c], actual[c], 1e-6, "layer " + l + " row " + r);
                        }
                    }
                }
            }
        }
    }

    @Test
    void combineAddsALoraAndRefusesOtherMethods() {
        AdaptedModel model = new AdaptedModel(base, null);
        LoraModel a = random(base.config(), List.of("q_proj"), 4);
        LoraModel b = random(base.config(), List.of("q_proj", "up_proj"), 5);
        model.add("a", a);
        model.add("b", b);
        LoraModel mix = model.combine(List.of("a", "b"),
                LoraCombine.weighted(List.of(0.25, 0.75), CombineOptions.of(CombinationType.CAT)), "mix");
        assertSame(mix, model.adapter("mix"));
        assertEquals(List.of(), model.active(), "a combination is added inactive, as in PEFT");
        String q = "model.layers.1.self_attn.q_proj";
        float[] da = a.modules().get(q).delta();
        float[] db = b.modules().get(q).delta();
        float[] dm = mix.modules().get(q).delta();
        for (int i = 0; i < dm.length; i++) {
            assertEquals(0.25 * da[i] + 0.75 * db[i], dm[i], 1e-6);
        }
        model.add("other", new Adapter() {
            @Override
            public String type() {
                return "IA3";
            }

            @Override
            public String describe() {
                return "an IA³ stand-in with no sites";
            }

            @Override
            public AdapterSites sites() {
                return AdapterSites.NONE;
            }

            @Override
            public Map<String, Object> config(String baseModel) {
                throw new UnsupportedOperationException("not saved in this test");
            }

            @Override
            public List<Parameter> savedTensors() {
                throw new UnsupportedOperationException("not saved in this test");
            }
        });
        var e = assertThrows(IllegalArgumentException.class, () -> model.combine(List.of("a", "other"),
                LoraCombine.weighted(List.of(1.0, 1.0), CombineOptions.of(CombinationType.LINEAR)), "bad"));
        assertTrue(e.getMessage().contains("\"other\"") && e.getMessage().contains("IA3"), e.getMessage());
        assertFalse(model.names().contains("bad"));
    }

    @Test
    void adaptersOfAnotherShapeOrBaseAreRefused() {
        AdaptedModel model = new AdaptedModel(base, "sha256:tiny");
        ModelConfig c = base.config();
        ModelConfig wider = new ModelConfig(c.modelType(), c.hiddenSize() * 2, c.intermediateSize(), c.numLayers(),
                c.numHeads(), c.numKvHeads(), c.headDim() * 2, c.rmsNormEps(), c.ropeTheta(), c.ropeScaling(),
                c.vocabSize(), c.maxPositions(), c.tieWordEmbeddings(), c.attentionBias(), c.qkNorm(),
                c.bosTokenId(), c.eosTokenIds());
        var e = assertThrows(IllegalArgumentException.class, () -> model.add("wide",
                random(wider, List.of("q_proj"), 6)));
        assertTrue(e.getMessage().contains("model.layers.0.self_attn.q_proj"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.validate("wide",
                random(wider, List.of("q_proj"), 6), null));
        assertTrue(e.getMessage().contains("model.layers.0.self_attn.q_proj"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.add("elsewhere",
                random(c, List.of("q_proj"), 7), "sha256:other"));
        assertTrue(e.getMessage().contains("sha256:other") && e.getMessage().contains("sha256:tiny"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.validate("elsewhere",
                random(c, List.of("q_proj"), 7), "sha256:other"));
        assertTrue(e.getMessage().contains("sha256:other") && e.getMessage().contains("sha256:tiny"), e.getMessage());
        model.validate("fits", random(c, List.of("q_proj"), 7), "sha256:tiny");
        assertTrue(model.names().isEmpty(), "validate adds nothing");
        model.add("a", random(c, List.of("q_proj"), 8));
        e = assertThrows(IllegalArgumentException.class, () -> model.add("a", random(c, List.of("k_proj"), 9)));
        assertTrue(e.getMessage().contains("exists"), e.getMessage());
    }

    @Test
    void concurrentReadersSeeConsistentViewsWhileAdaptersChange() throws Exception {
        AdaptedModel model = new AdaptedModel(base, null);
        LoraModel a = random(base.config(), List.of("v_proj"), 10);
        model.add("a", a);
        float[] withA = logits(model.model("a"));
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<float[]>> reads = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                reads.add(pool.submit(() -> logits(model.model("a"))));
            }
            for (int i = 0; i < 5; i++) {
                model.add("tmp" + i, random(base.config(), List.of("o_proj"), 20 + i));
                model.set("tmp" + i);
                model.delete("tmp" + i);
            }
            for (Future<float[]> f : reads) {
                assertBitwise(withA, f.get(), "a read while others changed");
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(List.of("a"), List.copyOf(model.names()));
        assertEquals(List.of(), model.active());
    }
}
