package dev.tailor.model.site;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SiteTest {

    @Test
    void moduleNamesAreHuggingFacesAndParseBack() {
        assertEquals("model.layers.3.self_attn.q_proj", LinearSite.Q_PROJ.module(3));
        assertEquals("model.layers.0.mlp.down_proj", LinearSite.DOWN_PROJ.module(0));
        assertEquals("model.layers.12.self_attn", SublayerSite.SELF_ATTN.module(12));
        assertEquals("model.layers.7", Site.block(7));
        for (int layer : new int[] {0, 1, 10, 123456789}) {
            for (LinearSite s : LinearSite.values()) {
                Site.At<LinearSite> at = LinearSite.parse(s.module(layer));
                assertEquals(new Site.At<>(layer, s), at);
                assertEquals(s.module(layer), at.module());
            }
            for (SublayerSite s : SublayerSite.values()) {
                assertEquals(new Site.At<>(layer, s), SublayerSite.parse(s.module(layer)));
            }
        }
    }

    @Test
    void allLinearIsTheSevenProjectionsInBlockOrder() {
        assertEquals(List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
                LinearSite.allLinearNames());
        assertEquals(List.of(LinearSite.values()), LinearSite.allLinear());
        assertEquals(List.of(LinearSite.Q_PROJ, LinearSite.K_PROJ, LinearSite.V_PROJ, LinearSite.O_PROJ),
                SublayerSite.SELF_ATTN.linears());
        assertEquals(List.of(LinearSite.GATE_PROJ, LinearSite.UP_PROJ, LinearSite.DOWN_PROJ),
                SublayerSite.MLP.linears());
        assertEquals(LinearSite.UP_PROJ, LinearSite.named("up_proj"));
        assertEquals("mlp.up_proj", LinearSite.UP_PROJ.path());
        assertEquals(List.of("model.layers.0.mlp", "model.layers.0.self_attn", "model.layers.1.mlp",
                "model.layers.1.self_attn"), Site.modules(2, List.of(SublayerSite.MLP, SublayerSite.SELF_ATTN)));
    }

    @Test
    void shapesAreInTermsOfTheConfig() {
        assertEquals(Width.HIDDEN, LinearSite.Q_PROJ.in());
        assertEquals(Width.QUERY, LinearSite.Q_PROJ.out());
        assertEquals(Width.KEY_VALUE, LinearSite.V_PROJ.out());
        assertEquals(Width.QUERY, LinearSite.O_PROJ.in());
        assertEquals(Width.INTERMEDIATE, LinearSite.DOWN_PROJ.in());
        assertEquals(Width.HIDDEN, LinearSite.DOWN_PROJ.out());
    }

    @Test
    void malformedNamesAreRefused() {
        for (String bad : List.of("", "q_proj", "self_attn.q_proj", "model.layers.0.q_proj",
                "model.layers.x.mlp.up_proj", "model.layers.-1.mlp.up_proj", "model.layers.01.mlp.up_proj",
                "model.layers.0.mlp.up_proj.weight", "model.layers.0.self_attn", "lm_head", "model.layers.1234567890.mlp.up_proj")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LinearSite.parse(bad), bad);
            assertTrue(e.getMessage().contains("no linear site named " + bad), e.getMessage());
        }
        for (String bad : List.of("model.layers.0.self_attn.q_proj", "model.layers.0.attn", "layers.0.mlp")) {
            assertThrows(IllegalArgumentException.class, () -> SublayerSite.parse(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> LinearSite.named("lm_head"));
        assertThrows(IllegalArgumentException.class, () -> LinearSite.named("self_attn.q_proj"));
        assertThrows(IllegalArgumentException.class, () -> Site.block(-1));
    }
}
