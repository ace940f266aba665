package dev.once.drill.internal;

import dev.once.drill.Attempt;
import dev.once.drill.Check;
import dev.once.drill.DrillReport;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/** The HTML page of a report: no script, no external resource, the chart an inline SVG. */
public final class HtmlReport {
  private static final int WIDTH = 900;
  private static final int HEIGHT = 320;
  private static final int LEFT = 60;
  private static final int BOTTOM = 40;
  private static final int TOP = 20;
  private static final int RIGHT = 20;
  private static final Map<Attempt.Kind, String> COLOURS = new EnumMap<>(Attempt.Kind.class);

  static {
    COLOURS.put(Attempt.Kind.FIRST, "#1f77b4");
    COLOURS.put(Attempt.Kind.CONCURRENT, "#ff7f0e");
    COLOURS.put(Attempt.Kind.ABORTED, "#7f7f7f");
    COLOURS.put(Attempt.Kind.RETRY_AFTER_ABORT, "#8c564b");
    COLOURS.put(Attempt.Kind.DUPLICATE, "#2ca02c");
    COLOURS.put(Attempt.Kind.MISMATCH, "#d62728");
    COLOURS.put(Attempt.Kind.SLOW_RETRY, "#9467bd");
    COLOURS.put(Attempt.Kind.BURST, "#17becf");
  }

  private HtmlReport() {}

  /** {@return the page} */
  public static String render(DrillReport r) {
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<title>Once drill: ")
        .append(esc(r.target()))
        .append("</title><style>")
        .append("body{font-family:system-ui,sans-serif;margin:2em;color:#222}")
        .append("table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;")
        .append(
            "text-align:left;vertical-align:top}.PASS{background:#d4f7d4}.FAIL{background:#f7d4d4}")
        .append(".SKIPPED,.INFO{background:#eee}.num{text-align:right}</style></head><body>\n");
    h.append("<h1>")
        .append(r.passed() ? "PASS" : "FAIL")
        .append(": drill of ")
        .append(esc(r.target()))
        .append("</h1>\n<p>")
        .append(r.requests())
        .append(" requests, ")
        .append(r.attempts().size())
        .append(" sent in ")
        .append(String.format(Locale.ROOT, "%.1f", r.elapsed().toMillis() / 1000.0))
        .append(" s, started ")
        .append(esc(r.startedAt().toString()))
        .append(", run ")
        .append(esc(r.runId()))
        .append(", seed ")
        .append(r.seed())
        .append(r.oracle() == null ? ", no oracle" : ", oracle: " + esc(r.oracle()))
        .append("</p>\n<table><tr><th>check</th><th>result</th><th>passed</th><th>failed</th>")
        .append("<th>detail</th></tr>\n");
    for (Check c : r.checks()) {
      h.append("<tr class=\"")
          .append(c.status())
          .append("\"><td>")
          .append(esc(c.title()))
          .append("</td><td>")
          .append(c.status())
          .append("</td><td class=\"num\">")
          .append(c.passed())
          .append("</td><td class=\"num\">")
          .append(c.failed())
          .append("</td><td>")
          .append(esc(c.detail()))
          .append("</td></tr>\n");
    }
    h.append("</table>\n<h2>Latency of every request</h2>\n");
    chart(h, r);
    h.append("</body></html>\n");
    return h.toString();
  }

  private static void chart(StringBuilder h, DrillReport r) {
    double maxX = 1;
    double maxY = 1;
    for (Attempt a : r.attempts()) {
      maxX = Math.max(maxX, a.atMillis() + a.latencyMillis());
      maxY = Math.max(maxY, a.latencyMillis());
    }
    int plotW = WIDTH - LEFT - RIGHT;
    int plotH = HEIGHT - TOP - BOTTOM;
    h.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"")
        .append(WIDTH)
        .append("\" height=\"")
        .append(HEIGHT + 20 * ((COLOURS.size() + 3) / 4))
        .append("\" font-size=\"11\">\n");
    h.append(
        String.format(
            Locale.ROOT,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>"
                + "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n",
            LEFT,
            TOP,
            LEFT,
            TOP + plotH,
            LEFT,
            TOP + plotH,
            LEFT + plotW,
            TOP + plotH));
    for (int i = 0; i <= 4; i++) {
      double y = maxY * i / 4;
      int py = TOP + plotH - (int) Math.round(plotH * i / 4.0);
      double x = maxX * i / 4;
      int px = LEFT + (int) Math.round(plotW * i / 4.0);
      h.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.0f ms</text>"
                  + "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%.1f s</text>\n",
              LEFT - 4,
              py + 4,
              y,
              px,
              TOP + plotH + 16,
              x / 1000));
    }
    h.append(
        String.format(
            Locale.ROOT,
            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">sent at (from the start)</text>\n",
            LEFT + plotW / 2,
            TOP + plotH + 32));
    for (Attempt a : r.attempts()) {
      double cx = LEFT + plotW * a.atMillis() / maxX;
      double cy = TOP + plotH - plotH * a.latencyMillis() / maxY;
      h.append(
          String.format(
              Locale.ROOT,
              "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"%s><title>%s</title></circle>\n",
              cx,
              cy,
              COLOURS.get(a.kind()),
              a.status() >= 500 || a.status() == 0 ? " stroke=\"#000\" stroke-width=\"2\"" : "",
              esc(
                  "request "
                      + a.request()
                      + " "
                      + a.kind()
                      + ": "
                      + (a.status() == 0 ? "no answer" : a.status())
                      + (a.replayed() ? " (replay)" : "")
                      + String.format(Locale.ROOT, ", %.1f ms", a.latencyMillis()))));
    }
    int i = 0;
    for (Map.Entry<Attempt.Kind, String> e : COLOURS.entrySet()) {
      int x = LEFT + (i % 4) * 200;
      int y = HEIGHT + 6 + (i / 4) * 18;
      h.append(
          String.format(
              Locale.ROOT,
              "<circle cx=\"%d\" cy=\"%d\" r=\"4\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>\n",
              x,
              y,
              e.getValue(),
              x + 8,
              y + 4,
              e.getKey().name().toLowerCase(Locale.ROOT)));
      i++;
    }
    h.append("</svg>\n");
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
