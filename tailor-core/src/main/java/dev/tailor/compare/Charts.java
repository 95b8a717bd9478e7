package dev.tailor.compare;

import java.util.List;
import java.util.Locale;
import java.util.function.DoubleFunction;

/** The report's charts as inline SVG, drawn from a comparison's numbers alone (no script, no external asset). */
final class Charts {
    private static final int WIDTH = 720;
    private static final int HEIGHT = 360;
    private static final int LEFT = 90;
    private static final int RIGHT = 150;
    private static final int TOP = 20;
    private static final int BOTTOM = 50;
    private static final String GRID = "#e3e3e3";
    private static final String INK = "#333";

    private Charts() {
    }

    /** Every method's training loss against the update, one line each, with a legend. */
    static String lossCurves(ComparisonResult result) {
        List<MethodRun> runs = result.runs();
        double[] steps = runs.stream().flatMap(r -> r.losses().stream()).mapToDouble(MethodRun.LossPoint::step)
                .toArray();
        double[] losses = runs.stream().flatMap(r -> r.losses().stream()).mapToDouble(MethodRun.LossPoint::loss)
                .toArray();
        Axis x = Axis.linear(steps, true, LEFT, WIDTH - RIGHT);
        Axis y = Axis.linear(losses, false, HEIGHT - BOTTOM, TOP);
        Svg svg = frame(x, y, "update", "training loss", v -> String.format(Locale.ROOT, "%.0f", v),
                v -> String.format(Locale.ROOT, "%.2f", v));
        for (int i = 0; i < runs.size(); i++) {
            List<MethodRun.LossPoint> points = runs.get(i).losses();
            double[] xy = new double[2 * points.size()];
            for (int p = 0; p < points.size(); p++) {
                xy[2 * p] = x.map(points.get(p).step());
                xy[2 * p + 1] = y.map(points.get(p).loss());
            }
            svg.polyline(xy, Svg.color(i), 1.6, null);
            if (points.size() == 1) {
                svg.circle(xy[0], xy[1], 3, Svg.color(i), runs.get(i).method());
            }
        }
        legend(svg, runs.stream().map(MethodRun::method).toList());
        return svg.render("loss-curves", "training loss of every method against the update");
    }

    /**
     * One horizontal bar per label on a logarithmic axis (the values span orders of magnitude), each with its value
     * written after it.
     */
    static String bars(String chart, String title, List<String> labels, double[] values, DoubleFunction<String> format) {
        int rowHeight = 26;
        int height = TOP + BOTTOM + rowHeight * labels.size();
        Axis x = Axis.logarithmic(values, LEFT + 30, WIDTH - RIGHT);
        Svg svg = new Svg(WIDTH, height);
        for (double t : x.ticks()) {
            svg.line(x.map(t), TOP, x.map(t), height - BOTTOM, GRID, 1);
            svg.text(x.map(t), height - BOTTOM + 16, "middle", format.apply(t));
        }
        svg.text((x.from() + x.to()) / 2, height - 10, "middle", title);
        for (int i = 0; i < labels.size(); i++) {
            double top = TOP + i * rowHeight + 4;
            svg.text(x.from() - 8, top + 14, "end", labels.get(i));
            if (values[i] > 0) {
                double end = x.map(values[i]);
                svg.rect(x.from(), top, end - x.from(), rowHeight - 8, Svg.color(i),
                        labels.get(i) + ": " + format.apply(values[i]));
                svg.text(end + 6, top + 14, "start", format.apply(values[i]));
            } else {
                svg.text(x.from() + 6, top + 14, "start", "none");
            }
        }
        svg.line(x.from(), TOP, x.from(), height - BOTTOM, INK, 1);
        return svg.render(chart, title);
    }

    /**
     * Quality (accuracy, or eval loss) against training time, one point per method, the Pareto front joined by a
     * dashed line and its points ringed.
     */
    static String qualityVsTime(ComparisonResult result) {
        List<MethodRun> runs = result.runs();
        boolean accuracy = result.scoredByAccuracy();
        double[] seconds = runs.stream().mapToDouble(MethodRun::runSeconds).toArray();
        double[] quality = runs.stream().mapToDouble(r -> accuracy ? r.evalAccuracy() : r.evalLoss()).toArray();
        Axis x = Axis.logarithmic(seconds, LEFT, WIDTH - RIGHT);
        Axis y = Axis.linear(quality, false, HEIGHT - BOTTOM, TOP);
        Svg svg = frame(x, y, "training time (s, log scale)", accuracy ? "eval accuracy" : "eval loss (lower is better)",
                Reports::seconds, v -> String.format(Locale.ROOT, accuracy ? "%.3f" : "%.2f", v));
        List<String> front = result.paretoFront();
        List<MethodRun> onFront = runs.stream().filter(r -> front.contains(r.method()))
                .sorted(java.util.Comparator.comparingDouble(MethodRun::runSeconds)).toList();
        double[] xy = new double[2 * onFront.size()];
        for (int i = 0; i < onFront.size(); i++) {
            xy[2 * i] = x.map(onFront.get(i).runSeconds());
            xy[2 * i + 1] = y.map(accuracy ? onFront.get(i).evalAccuracy() : onFront.get(i).evalLoss());
        }
        svg.polyline(xy, INK, 1.2, "5,4");
        for (int i = 0; i < runs.size(); i++) {
            if (!Double.isFinite(quality[i]) || !(seconds[i] > 0)) {
                continue;
            }
            double cx = x.map(seconds[i]);
            double cy = y.map(quality[i]);
            boolean pareto = front.contains(runs.get(i).method());
            if (pareto) {
                svg.circle(cx, cy, 8, INK, runs.get(i).method() + " is on the Pareto front");
            }
            svg.circle(cx, cy, 5.5, Svg.color(i), runs.get(i).method() + ": " + Reports.seconds(seconds[i]) + ", "
                    + Reports.fixed(quality[i], 4));
            svg.text(cx + 10, cy - 8, "start", runs.get(i).method());
        }
        svg.text(WIDTH - RIGHT + 12, TOP + 10, "start", "ringed, dashed:");
        svg.text(WIDTH - RIGHT + 12, TOP + 26, "start", "Pareto front");
        return svg.render("quality-vs-time", (accuracy ? "accuracy" : "eval loss")
                + " against training time, the Pareto front marked");
    }

    /** Measured and predicted value per method, side by side, with the error written beside each pair. */
    static String measuredVsPredicted(String chart, String title, List<MethodRun> runs, double[] measured,
                                      double[] predicted, DoubleFunction<String> format) {
        int rowHeight = 34;
        int height = TOP + BOTTOM + rowHeight * runs.size() + 20;
        double[] all = new double[measured.length + predicted.length];
        System.arraycopy(measured, 0, all, 0, measured.length);
        System.arraycopy(predicted, 0, all, measured.length, predicted.length);
        Axis x = Axis.linear(all, true, LEFT + 30, WIDTH - RIGHT);
        Svg svg = new Svg(WIDTH, height);
        for (double t : x.ticks()) {
            svg.line(x.map(t), TOP, x.map(t), height - BOTTOM - 20, GRID, 1);
            svg.text(x.map(t), height - BOTTOM - 4, "middle", format.apply(t));
        }
        svg.text((x.from() + x.to()) / 2, height - 24, "middle", title);
        svg.rect(LEFT + 30, height - 16, 12, 10, "#4c78a8", "measured");
        svg.text(LEFT + 46, height - 7, "start", "measured");
        svg.rect(LEFT + 130, height - 16, 12, 10, "#f58518", "predicted");
        svg.text(LEFT + 146, height - 7, "start", "predicted");
        for (int i = 0; i < runs.size(); i++) {
            double top = TOP + i * rowHeight + 2;
            String m = runs.get(i).method();
            svg.text(x.from() - 8, top + 18, "end", m);
            svg.rect(x.from(), top, x.map(measured[i]) - x.from(), 13, "#4c78a8", m + " measured: "
                    + format.apply(measured[i]));
            svg.rect(x.from(), top + 15, x.map(predicted[i]) - x.from(), 13, "#f58518", m + " predicted: "
                    + format.apply(predicted[i]));
            double error = MethodRun.errorPercent(predicted[i], measured[i]);
            svg.text(Math.max(x.map(measured[i]), x.map(predicted[i])) + 6, top + 18, "start",
                    Reports.percent(error) + (Math.abs(error) > MethodRun.GOAL_PERCENT ? " (missed)" : ""));
        }
        svg.line(x.from(), TOP, x.from(), height - BOTTOM - 20, INK, 1);
        return svg.render(chart, title);
    }

    /** Axes, grid and titles for a chart of {@code x} against {@code y}. */
    private static Svg frame(Axis x, Axis y, String xTitle, String yTitle, DoubleFunction<String> xFormat,
                             DoubleFunction<String> yFormat) {
        Svg svg = new Svg(WIDTH, HEIGHT);
        for (double t : x.ticks()) {
            svg.line(x.map(t), TOP, x.map(t), HEIGHT - BOTTOM, GRID, 1);
            svg.text(x.map(t), HEIGHT - BOTTOM + 16, "middle", xFormat.apply(t));
        }
        for (double t : y.ticks()) {
            svg.line(LEFT, y.map(t), WIDTH - RIGHT, y.map(t), GRID, 1);
            svg.text(LEFT - 6, y.map(t) + 4, "end", yFormat.apply(t));
        }
        svg.line(LEFT, HEIGHT - BOTTOM, WIDTH - RIGHT, HEIGHT - BOTTOM, INK, 1);
        svg.line(LEFT, TOP, LEFT, HEIGHT - BOTTOM, INK, 1);
        svg.text((LEFT + WIDTH - RIGHT) / 2.0, HEIGHT - 12, "middle", xTitle);
        svg.verticalText(24, (TOP + HEIGHT - BOTTOM) / 2.0, yTitle);
        return svg;
    }

    private static void legend(Svg svg, List<String> names) {
        for (int i = 0; i < names.size(); i++) {
            double y = TOP + 10 + i * 18;
            svg.line(WIDTH - RIGHT + 12, y - 4, WIDTH - RIGHT + 32, y - 4, Svg.color(i), 3);
            svg.text(WIDTH - RIGHT + 38, y, "start", names.get(i));
        }
    }
}
