package dev.tailor.cost;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Arrays;

/**
 * The seconds one matrix product kernel takes over a grid of shapes, and the time of any shape read off it: a
 * product of {@code m} rows, {@code n} outputs and an inner size {@code k} (a linear layer's {@code [m, k]·[k, n]} in
 * whichever orientation the kernel computes it).
 *
 * <p>Between grid points the time is interpolated trilinearly in the logarithms of the sizes and of the time (a power
 * law between neighbours, so a product that is all call overhead and one that is all arithmetic are both followed).
 * Beyond the largest size of an axis the time grows in proportion (the rate of the largest product measured holds);
 * below the smallest it stays that of the smallest (a product that small is its call's overhead).
 *
 * @param rows    the {@code m} of the grid, increasing
 * @param outs    the {@code n} of the grid, increasing
 * @param ins     the {@code k} of the grid, increasing
 * @param seconds the time of {@code (rows[i], outs[j], ins[l])} at {@code (i·outs.length + j)·ins.length + l}
 */
public record ProductGrid(int[] rows, int[] outs, int[] ins, double[] seconds) {

    /**
     * Checks the axes and the times.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public ProductGrid {
        rows = increasing("rows", rows);
        outs = increasing("outs", outs);
        ins = increasing("ins", ins);
        seconds = seconds.clone();
        if (seconds.length != rows.length * outs.length * ins.length) {
            throw new IllegalArgumentException("a product grid of " + rows.length + "x" + outs.length + "x"
                    + ins.length + " shapes needs as many times, got " + seconds.length);
        }
        for (double s : seconds) {
            if (!(s > 0) || Double.isInfinite(s)) {
                throw new IllegalArgumentException("a product grid's times must be > 0, got " + s);
            }
        }
    }

    private static int[] increasing(String axis, int[] values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("a product grid needs at least one " + axis + " size");
        }
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 1 || (i > 0 && values[i] <= values[i - 1])) {
                throw new IllegalArgumentException("a product grid's " + axis + " must be increasing sizes >= 1, got "
                        + Arrays.toString(values));
            }
        }
        return values.clone();
    }

    /** The time measured at grid point {@code (i, j, l)}. */
    double at(int i, int j, int l) {
        return seconds[(i * outs.length + j) * ins.length + l];
    }

    /** The seconds of a product of {@code m} rows, {@code n} outputs and inner size {@code k}; 0 when one is 0. */
    public double seconds(double m, double n, double k) {
        if (m <= 0 || n <= 0 || k <= 0) {
            return 0;
        }
        Axis a = Axis.of(rows, m);
        Axis b = Axis.of(outs, n);
        Axis c = Axis.of(ins, k);
        double log = 0;
        for (int di = 0; di < 2; di++) {
            for (int dj = 0; dj < 2; dj++) {
                for (int dl = 0; dl < 2; dl++) {
                    double w = a.weight(di) * b.weight(dj) * c.weight(dl);
                    if (w != 0) {
                        log += w * Math.log(at(a.index(di), b.index(dj), c.index(dl)));
                    }
                }
            }
        }
        return Math.exp(log) * a.beyond() * b.beyond() * c.beyond();
    }

    /**
     * Where a size falls on one axis: the two grid points around it and the weight of the upper one (in the
     * logarithms of the sizes), and the factor by which it lies beyond the largest.
     */
    private record Axis(int lower, int upper, double t, double beyond) {
        static Axis of(int[] sizes, double x) {
            int last = sizes.length - 1;
            if (x >= sizes[last]) {
                return new Axis(last, last, 0, x / sizes[last]);
            }
            if (x <= sizes[0]) {
                return new Axis(0, 0, 0, 1);
            }
            int i = 0;
            while (sizes[i + 1] < x) {
                i++;
            }
            double t = Math.log(x / sizes[i]) / Math.log((double) sizes[i + 1] / sizes[i]);
            return new Axis(i, i + 1, t, 1);
        }

        double weight(int upperSide) {
            return upperSide == 1 ? t : 1 - t;
        }

        int index(int upperSide) {
            return upperSide == 1 ? upper : lower;
        }
    }

    /** As JSON: {@code {"rows": […], "outs": […], "ins": […], "seconds": […]}}. */
    ObjectNode json() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        ArrayNode r = n.putArray("rows");
        Arrays.stream(rows).forEach(r::add);
        ArrayNode o = n.putArray("outs");
        Arrays.stream(outs).forEach(o::add);
        ArrayNode i = n.putArray("ins");
        Arrays.stream(ins).forEach(i::add);
        ArrayNode s = n.putArray("seconds");
        Arrays.stream(seconds).forEach(s::add);
        return n;
    }

    /**
     * Read back from {@link #json()}.
     *
     * @throws IllegalArgumentException when it is not a grid
     */
    static ProductGrid of(JsonNode n) {
        return new ProductGrid(ints(n, "rows"), ints(n, "outs"), ints(n, "ins"),
                doubles(n.path("seconds")));
    }

    private static int[] ints(JsonNode n, String field) {
        JsonNode a = n.path(field);
        if (!a.isArray()) {
            throw new IllegalArgumentException("a product grid needs a list \"" + field + "\"");
        }
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    private static double[] doubles(JsonNode a) {
        if (!a.isArray()) {
            throw new IllegalArgumentException("a product grid needs a list \"seconds\"");
        }
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asDouble();
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ProductGrid g && Arrays.equals(rows, g.rows) && Arrays.equals(outs, g.outs)
                && Arrays.equals(ins, g.ins) && Arrays.equals(seconds, g.seconds);
    }

    @Override
    public int hashCode() {
        return ((Arrays.hashCode(rows) * 31 + Arrays.hashCode(outs)) * 31 + Arrays.hashCode(ins)) * 31
                + Arrays.hashCode(seconds);
    }

    @Override
    public String toString() {
        return "ProductGrid" + Arrays.toString(rows) + "x" + Arrays.toString(outs) + "x" + Arrays.toString(ins);
    }
}
