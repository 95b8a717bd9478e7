package dev.tailor.compare;

import java.util.ArrayList;
import java.util.List;

/**
 * A chart axis: values from {@code min} to {@code max} onto pixels from {@code from} to {@code to}, linearly or on a
 * base-10 logarithm.
 *
 * @param min  the smallest value shown
 * @param max  the largest
 * @param log  logarithmic
 * @param from the pixel of {@code min}
 * @param to   the pixel of {@code max}
 */
record Axis(double min, double max, boolean log, double from, double to) {

    /** A linear axis over {@code values} (with a margin of a twentieth), or over 0 to 1 when there are none. */
    static Axis linear(double[] values, boolean fromZero, double from, double to) {
        double lo = fromZero ? 0 : Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            if (Double.isFinite(v)) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (!(hi >= lo)) {
            return new Axis(0, 1, false, from, to);
        }
        double pad = hi > lo ? (hi - lo) / 20 : Math.max(Math.abs(hi) / 10, 1e-9);
        return new Axis(fromZero && lo >= 0 ? 0 : lo - pad, hi + pad, false, from, to);
    }

    /** A logarithmic axis over the positive {@code values}, widened to whole powers of ten. */
    static Axis logarithmic(double[] values, double from, double to) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            if (v > 0 && Double.isFinite(v)) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (!(hi >= lo)) {
            return new Axis(1, 10, true, from, to);
        }
        double min = Math.pow(10, Math.floor(Math.log10(lo)));
        double max = Math.pow(10, Math.ceil(Math.log10(hi)));
        return new Axis(min, max > min ? max : min * 10, true, from, to);
    }

    /** The pixel of {@code v}. */
    double map(double v) {
        double t = log ? (Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(max) - Math.log10(min))
                : (v - min) / (max - min);
        return from + t * (to - from);
    }

    /** About five round values to label: powers of ten on a log axis, steps of 1, 2 or 5 × 10ⁿ on a linear one. */
    List<Double> ticks() {
        List<Double> ticks = new ArrayList<>();
        if (log) {
            for (double v = min; v <= max * 1.0001; v *= 10) {
                ticks.add(v);
            }
            return ticks;
        }
        double raw = (max - min) / 5;
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / magnitude < 1.5 ? magnitude : raw / magnitude < 3.5 ? 2 * magnitude
                : raw / magnitude < 7.5 ? 5 * magnitude : 10 * magnitude;
        for (double v = Math.ceil(min / step) * step; v <= max + step / 1e6; v += step) {
            ticks.add(Math.abs(v) < step / 1e6 ? 0 : v);
        }
        return ticks;
    }
}
