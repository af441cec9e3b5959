"""chart.svg: the benchmark's figures as two grouped bar charts, written by hand (no
plotting library, so that the benchmark needs only Python's standard library).

Top: run-time overhead per workload for both granularities, with the 1.10x target.
Bottom: unique-trace ratio and normalized entropy per workload and granularity.
"""

import math
from xml.sax.saxutils import escape

WIDTH = 980
PANEL_HEIGHT = 330
MARGIN = {"left": 78, "right": 150, "top": 66, "bottom": 92}
FONT = "font-family='DejaVu Sans, Arial, sans-serif'"

CALL, INSTANCE = "#3b6ea8", "#e08a2c"
CALL_LIGHT, INSTANCE_LIGHT = "#9dbce0", "#f3c48f"
TARGET = "#c0392b"


def _text(x, y, s, size=12, anchor="start", extra=""):
    return (f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' "
            f"{FONT} {extra}>{escape(str(s))}</text>")


def _line(x1, y1, x2, y2, color="#333", width=1, dash=None):
    d = f" stroke-dasharray='{dash}'" if dash else ""
    return (f"<line x1='{x1:.1f}' y1='{y1:.1f}' x2='{x2:.1f}' y2='{y2:.1f}' "
            f"stroke='{color}' stroke-width='{width}'{d}/>")


def _rect(x, y, w, h, color):
    return f"<rect x='{x:.1f}' y='{y:.1f}' width='{w:.1f}' height='{h:.1f}' fill='{color}'/>"


def _ticks(ymax, step):
    n = int(round(ymax / step))
    return [i * step for i in range(n + 1)]


def _axes(top, plot_h, ymax, ticks, ylabel, fmt):
    """Y axis with grid lines and its label, X axis line."""
    left, right = MARGIN["left"], WIDTH - MARGIN["right"]
    out = []
    for t in ticks:
        y = top + plot_h - t / ymax * plot_h
        out.append(_line(left, y, right, y, "#e3e3e3"))
        out.append(_text(left - 6, y + 4, format(t, fmt), 11, "end"))
    out.append(_line(left, top, left, top + plot_h))
    out.append(_line(left, top + plot_h, right, top + plot_h))
    cx, cy = 18, top + plot_h / 2
    out.append(_text(cx, cy, ylabel, 12, "middle", f"transform='rotate(-90 {cx} {cy:.1f})'"))
    return out


def _bars(top, plot_h, ymax, names, series, value_labels):
    """Grouped bars: one group per workload, one bar per series; None draws nothing."""
    left, right = MARGIN["left"], WIDTH - MARGIN["right"]
    group_w = (right - left) / max(1, len(names))
    bar_w = group_w * 0.78 / max(1, len(series))
    out = []
    for g, name in enumerate(names):
        x0 = left + g * group_w + group_w * 0.11
        for k, (_, color, values) in enumerate(series):
            v = values[g]
            if v is None:
                continue
            h = min(v, ymax) / ymax * plot_h
            x = x0 + k * bar_w
            out.append(_rect(x, top + plot_h - h, bar_w - 2, h, color))
            if value_labels:
                out.append(_text(x + bar_w / 2 - 1, top + plot_h - h - 4, f"{v:.2f}", 9,
                                 "middle"))
        lx, ly = left + (g + 0.5) * group_w, top + plot_h + 16
        out.append(_text(lx, ly, name, 11, "end", f"transform='rotate(-25 {lx:.1f} {ly})'"))
    return out


def _reference(top, plot_h, ymax, value, label, dy=-4, color=TARGET):
    left, right = MARGIN["left"], WIDTH - MARGIN["right"]
    y = top + plot_h - value / ymax * plot_h
    dash = "6 4" if color == TARGET else None
    return [_line(left, y, right, y, color, 1.5, dash),
            _text(right + 6, y + dy + 4, label, 11, "start", f"fill='{color}'")]


def _legend(y, series):
    """One row between the title and the plot, so that the right margin is left to the
    reference lines' labels, wherever their values put them."""
    x = MARGIN["left"]
    out = []
    for label, color, _ in series:
        out.append(_rect(x, y - 10, 12, 12, color))
        out.append(_text(x + 18, y, label, 11))
        x += 18 + 7 * len(label) + 24  # about 7 px per character at 11 px
    return out


def _panel(top, title, names, series, ymax, step, ylabel, refs, fmt, value_labels):
    plot_h = PANEL_HEIGHT - MARGIN["top"] - MARGIN["bottom"]
    ptop = top + MARGIN["top"]
    out = [_text(MARGIN["left"], top + 24, title, 15, "start", "font-weight='bold'")]
    out += _legend(top + 46, series)
    out += _axes(ptop, plot_h, ymax, _ticks(ymax, step), ylabel, fmt)
    out += _bars(ptop, plot_h, ymax, names, series, value_labels)
    for ref in refs:
        out += _reference(ptop, plot_h, ymax, *ref)
    return out


def _values(doc, section, setting, key):
    return [((w.get(section) or {}).get(setting) or {}).get(key) for w in doc["workloads"]]


def _overhead_panel(doc, top):
    names = [w["name"] for w in doc["workloads"]]
    series = [("per call (default)", CALL, _values(doc, "settings", "call", "overhead")),
              ("per instance", INSTANCE, _values(doc, "settings", "instance", "overhead"))]
    present = [v for _, _, vs in series for v in vs if v is not None]
    ymax = max(1.5, math.ceil(max(present, default=1.0) * 1.12 / 0.5) * 0.5)
    goal = doc["meta"]["targets"]["overhead_median"]
    return _panel(top, "Run-time overhead (multivariant / original, median of runs)", names,
                  series, ymax, 0.5 if ymax > 2 else 0.25, "run time / original",
                  [(1.0, "original (1.0x)", 10, "#777"), (goal, f"target {goal:.2f}x", -4)],
                  ".2f", True)


def _trace_panel(doc, top):
    names = [w["name"] for w in doc["workloads"]]
    series = [
        ("unique-trace ratio, call", CALL, _values(doc, "traces", "call",
                                                   "unique_trace_ratio")),
        ("entropy, call", CALL_LIGHT, _values(doc, "traces", "call", "normalized_entropy")),
        ("unique-trace ratio, instance", INSTANCE, _values(doc, "traces", "instance",
                                                           "unique_trace_ratio")),
        ("entropy, instance", INSTANCE_LIGHT, _values(doc, "traces", "instance",
                                                      "normalized_entropy")),
    ]
    t = doc["meta"]["targets"]
    runs = doc["meta"]["trace_runs"]
    return _panel(top, f"Trace diversity over {runs} runs with the same input", names,
                  series, 1.0, 0.2, "ratio / normalized entropy",
                  [(t["unique_trace_ratio"], f"unique >= {t['unique_trace_ratio']}", -6),
                   (t["entropy"], f"entropy >= {t['entropy']}", 8)], ".1f", False)


def svg(doc):
    """The whole chart as SVG text."""
    height = 2 * PANEL_HEIGHT + 10
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{height}' "
             f"viewBox='0 0 {WIDTH} {height}'>",
             f"<rect width='{WIDTH}' height='{height}' fill='white'/>"]
    parts += _overhead_panel(doc, 0)
    parts += _trace_panel(doc, PANEL_HEIGHT + 10)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
