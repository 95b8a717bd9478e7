package dev.tailor.compare;

import java.util.List;
import java.util.Locale;

/** A small SVG drawing, written as text: shapes and labels in user units, escaped for HTML. */
final class Svg {
    /** Distinct colours for up to ten series, then repeated. */
    private static final List<String> PALETTE = List.of("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf");

    private final StringBuilder body = new StringBuilder();
    private final int width;
    private final int height;

    Svg(int width, int height) {
        this.width = width;
        this.height = height;
    }

    /** The colour of series {@code i}. */
    static String color(int i) {
        return PALETTE.get(i % PALETTE.size());
    }

    Svg line(double x1, double y1, double x2, double y2, String stroke, double strokeWidth) {
        body.append(String.format(Locale.ROOT,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%.1f\"/>",
                x1, y1, x2, y2, stroke, strokeWidth));
        return this;
    }

    Svg rect(double x, double y, double w, double h, String fill, String title) {
        body.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">",
                x, y, Math.max(0, w), Math.max(0, h), fill));
        body.append("<title>").append(escape(title)).append("</title></rect>");
        return this;
    }

    Svg circle(double cx, double cy, double r, String fill, String title) {
        body.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\">", cx, cy, r,
                fill));
        body.append("<title>").append(escape(title)).append("</title></circle>");
        return this;
    }

    /** An open line through {@code xy} (x0, y0, x1, y1 …). */
    Svg polyline(double[] xy, String stroke, double strokeWidth, String dash) {
        StringBuilder points = new StringBuilder();
        for (int i = 0; i + 1 < xy.length; i += 2) {
            points.append(String.format(Locale.ROOT, "%.1f,%.1f ", xy[i], xy[i + 1]));
        }
        body.append("<polyline fill=\"none\" stroke=\"").append(stroke).append("\" stroke-width=\"")
                .append(String.format(Locale.ROOT, "%.1f", strokeWidth)).append('"')
                .append(dash == null ? "" : " stroke-dasharray=\"" + dash + "\"")
                .append(" points=\"").append(points.toString().strip()).append("\"/>");
        return this;
    }

    /** Text at (x, y); {@code anchor} is {@code start}, {@code middle} or {@code end}. */
    Svg text(double x, double y, String anchor, String text) {
        body.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", x, y, anchor))
                .append(escape(text)).append("</text>");
        return this;
    }

    /** Text turned a quarter anticlockwise about (x, y), for a vertical axis's title. */
    Svg verticalText(double x, double y, String text) {
        body.append(String.format(Locale.ROOT,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 %.1f %.1f)\">", x, y, x, y))
                .append(escape(text)).append("</text>");
        return this;
    }

    /** The drawing as an {@code <svg>} element named {@code chart} for scripts and tests. */
    String render(String chart, String label) {
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" data-chart=\"" + escape(chart) + "\" role=\"img\" "
                + "aria-label=\"" + escape(label) + "\" viewBox=\"0 0 " + width + " " + height + "\" width=\"" + width
                + "\" height=\"" + height + "\">" + body + "</svg>";
    }

    /** {@code s} with HTML's special characters escaped. */
    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
