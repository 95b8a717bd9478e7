package dev.tailor.adapt;

import dev.tailor.adapt.lora.LoraConfig;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.site.LinearHook;
import dev.tailor.model.site.SublayerHook;
import dev.tailor.tensor.Parameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Options that would make a fresh adapter too large to allocate (found by fuzzing the method options) are refused
 * naming the option, before anything is allocated, instead of overflowing an array size, running out of memory or
 * searching two billion reduction factors. And the bytes a loaded adapter holds, each shared tensor once.
 */
class AdapterSizeTest {
    private static final ModelConfig CONFIG = new ModelConfig("llama", 32, 48, 2, 4, 2, 8, 1e-5, 10000.0, null, 64,
            64, false, false, false, 1, List.of(2));
    /** No weights: every case here is refused before the base's weights are read. */
    private static final AdapterBase BASE = new AdapterBase(CONFIG, null, null, "tiny-random");

    private static void refused(String variant, Map<String, List<String>> given, String option, String... fragments) {
        AdapterMethod method = AdapterMethods.byName(variant);
        InvalidOptionException e = assertThrows(InvalidOptionException.class,
                () -> method.create(variant, MethodOptions.of(method.options(), given), BASE, 1));
        assertEquals(option, e.option(), e.getMessage());
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), "mentions '" + fragment + "': " + e.getMessage());
        }
    }

    @Test
    void aLoraRankOfTwoToTheThirtyIsRefusedRatherThanOverflowingATensor() {
        refused("lora", Map.of("r", List.of("1073741824")), "r", "r 1073741824 gives a tensor of 51539607552 values",
                "more than a tensor can hold");
    }

    @Test
    void aLoraRankThatOutgrowsTheBaseIsRefused() {
        refused("dora", Map.of("r", List.of("100000")), "r", "r 100000 gives an adapter of",
                "more than 4 times the base model's");
    }

    @Test
    void aRankPatternThatOutgrowsTheBaseIsRefusedNamingThePattern() {
        refused("lora", Map.of("rank_pattern", List.of("q_proj=2147483647")), "rank_pattern",
                "rank_pattern 2147483647 gives a tensor");
    }

    @Test
    void aTinyBottleneckReductionFactorIsRefusedRatherThanOverflowing() {
        refused("seq_bn", Map.of("reduction_factor", List.of("1e-9")), "reduction_factor",
                "reduction_factor 1.0E-9 gives a tensor");
    }

    @Test
    void aHugeCompacterPhmRankIsRefusedNamingIt() {
        refused("compacter", Map.of("reduction_factor", List.of("4"), "phm_rank", List.of("1073741824")), "phm_rank",
                "phm_dim 4 and phm_rank 1073741824 gives a tensor");
    }

    @Test
    @Timeout(5)
    void aHugeCompacterReductionFactorIsRefusedWithoutSearchingEveryFactorBelowIt() {
        refused("compacter", Map.of("reduction_factor", List.of("1e19")), "reduction_factor",
                "reduction_factor 2147483647", "try reduction_factor 8");
    }

    @Test
    void tooManyPrefixTokensAreRefusedRatherThanOverflowingTheArraySize() {
        refused("prefix", Map.of("num_virtual_tokens", List.of("2147483647")), "num_virtual_tokens",
                "num_virtual_tokens 2147483647 gives a tensor");
    }

    @Test
    void aHugePrefixProjectionIsRefusedNamingItsWidth() {
        refused("prefix", Map.of("prefix_projection", List.of("true"), "encoder_hidden_size", List.of("1073741824")),
                "encoder_hidden_size", "num_virtual_tokens 20 and encoder_hidden_size 1073741824 gives a tensor");
    }

    @Test
    void tooManyPromptTokensAreRefusedRatherThanOverflowingTheArraySize() {
        refused("prompt", Map.of("num_virtual_tokens", List.of("2147483647")), "num_virtual_tokens",
                "num_virtual_tokens 2147483647 gives a tensor");
    }

    @Test
    void aLoraHoldsFourBytesPerValueOfItsFactors() {
        // q_proj and v_proj of 2 layers, r 4: A [4, 32] and B [32, 4] on q, A [4, 32] and B [16, 4] on v
        LoraModel lora = LoraModel.create(new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj"), false, null), CONFIG, 1);
        assertEquals(4L * 2 * (4 * 32 + 32 * 4 + 4 * 32 + 16 * 4), AdapterSize.bytes(lora));
    }

    @Test
    void compacterRuleMatricesSharedByEverySiteAreCountedOnce() {
        AdapterMethod method = AdapterMethods.byName("compacter");
        Adapter compacter = method.create("compacter", MethodOptions.of(method.options(),
                Map.of("reduction_factor", List.of("4"))), BASE, 1);
        long perSite = 0;
        for (SublayerHook hook : compacter.sites().sublayer().values()) {
            perSite += hook.parameters().stream().mapToLong(Parameter::size).sum();
        }
        for (LinearHook hook : compacter.sites().linear().values()) {
            perSite += hook.parameters().stream().mapToLong(Parameter::size).sum();
        }
        long distinct = compacter.parameters().stream().mapToLong(Parameter::size).sum();
        assertTrue(distinct < perSite, "the rule matrices are shared: " + distinct + " against " + perSite);
        assertEquals(4L * distinct, AdapterSize.bytes(compacter));
    }
}
