package dev.tailor.adapt.bottleneck;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The non-linearities against float64 reference values (GELU as {@code x·Φ(x)}), and their derivatives against
 * central differences.
 */
class NonLinearityTest {

    @Test
    void valuesMatchPyTorch() {
        // what torch.nn.functional.gelu (exact erf form), silu, relu and tanh give in float64
        assertEquals(0.8413447460685429, NonLinearity.GELU.apply(1), 1e-15);
        assertEquals(-0.15865525393145707, NonLinearity.GELU.apply(-1), 1e-15);
        assertEquals(-1.5289529061285276e-05, NonLinearity.GELU.apply(-4.5), 1e-18);
        assertEquals(1.9544997361036416, NonLinearity.GELU.apply(2), 1e-15);
        assertEquals(0.7310585786300049, NonLinearity.SWISH.apply(1), 1e-15);
        assertEquals(-0.23840584404423515, NonLinearity.SWISH.apply(-2), 1e-15);
        assertEquals(0.0, NonLinearity.RELU.apply(-0.3));
        assertEquals(0.3, NonLinearity.RELU.apply(0.3));
        assertEquals(0.46211715726000974, NonLinearity.TANH.apply(0.5), 1e-15);
    }

    @ParameterizedTest
    @EnumSource(NonLinearity.class)
    void derivativesMatchCentralDifferences(NonLinearity f) {
        double h = 1e-6;
        for (double x = -5.05; x <= 5; x += 0.1) {
            double numeric = (f.apply(x + h) - f.apply(x - h)) / (2 * h);
            assertEquals(numeric, f.derivative(x), 1e-8, f + "'(" + x + ")");
        }
        if (f == NonLinearity.RELU) {
            assertEquals(0.0, f.derivative(0), "PyTorch's relu' at 0");
        }
    }

    @Test
    void configNamesParse() {
        assertSame(NonLinearity.SWISH, NonLinearity.parse("silu"));
        assertSame(NonLinearity.GELU, NonLinearity.parse("GELU"));
        var e = assertThrows(IllegalArgumentException.class, () -> NonLinearity.parse("gelu_new"));
        assertTrue(e.getMessage().contains("gelu_new") && e.getMessage().contains("swish"), e.getMessage());
    }
}
