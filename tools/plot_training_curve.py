#!/usr/bin/env python3
"""Draws learning curves from `esper train esper` logs as one SVG (no dependencies).

usage: plot_training_curve.py OUT.svg LABEL=LOG.jsonl [LABEL=LOG.jsonl ...]
       [--y eval_f1] [--x minutes|iterations] [--hline LABEL=VALUE ...] [--legend-at Y]
       [--title TEXT]

Each log's points are (minutes since the run started or iterations, the field --y names), one
line per log; the legend sits at the right, its top at Y in the plot's units (default: the top);
--hline draws a dashed reference (e.g. the supervised mapper's F1). A log's first point may be
given by its run's summary: the field `eval_f1_start` of the JSON the command printed, passed
as LABEL=LOG.jsonl@START.
"""
import json
import sys

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def read(path, field, x_field):
    start = None
    if "@" in path:
        path, start = path.split("@", 1)
    points = [] if start is None else [(0.0, float(start))]
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            d = json.loads(line)
            if d.get(field) is not None:
                x = d["seconds"] / 60.0 if x_field == "minutes" else d["step"] + 1
                points.append((x, float(d[field])))
    return points


def main(argv):
    out, field, title, x_field, legend_at = None, "eval_f1", "", "minutes", None
    paths, hlines = [], []
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--y":
            field = argv[i + 1]
            i += 2
            continue
        if a == "--x":
            x_field = argv[i + 1]
            if x_field not in ("minutes", "iterations"):
                sys.exit("--x takes minutes or iterations")
            i += 2
            continue
        if a == "--legend-at":
            legend_at = float(argv[i + 1])
            i += 2
            continue
        if a == "--title":
            title = argv[i + 1]
            i += 2
            continue
        if a == "--hline":
            label, value = argv[i + 1].split("=", 1)
            hlines.append((label, float(value)))
            i += 2
            continue
        if out is None:
            out = a
        else:
            paths.append(a.split("=", 1))
        i += 1
    if out is None or not paths:
        sys.exit(__doc__)
    series = [(label, read(path, field, x_field)) for label, path in paths]

    w, h, left, right, top, bottom = 720, 400, 60, 170, 30, 45
    xs = [x for _, pts in series for x, _ in pts] or [1]
    ys = [y for _, pts in series for _, y in pts] + [v for _, v in hlines]
    xmax = max(xs) * 1.02
    ymin, ymax = 0.0, max(1.0, max(ys) * 1.05)
    sx = lambda x: left + (w - left - right) * x / xmax
    sy = lambda y: top + (h - top - bottom) * (1 - (y - ymin) / (ymax - ymin))
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>']
    if title:
        svg.append(f'<text x="{left}" y="18" font-size="14">{title}</text>')
    for k in range(0, 11, 2):  # y grid
        y = ymin + (ymax - ymin) * k / 10
        svg.append(f'<line x1="{left}" y1="{sy(y):.1f}" x2="{w - right}" y2="{sy(y):.1f}" '
                   f'stroke="#ddd"/>')
        svg.append(f'<text x="{left - 8}" y="{sy(y) + 4:.1f}" text-anchor="end">{y:.1f}</text>')
    step = 1  # 1, 2, 5, 10, 20, 50, ...: at most 12 ticks
    while xmax / step > 12:
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2
    t = 0
    while t <= xmax:
        svg.append(f'<line x1="{sx(t):.1f}" y1="{top}" x2="{sx(t):.1f}" y2="{h - bottom}" '
                   f'stroke="#eee"/>')
        svg.append(f'<text x="{sx(t):.1f}" y="{h - bottom + 16}" text-anchor="middle">{t}</text>')
        t += step
    svg.append(f'<text x="{(left + w - right) / 2}" y="{h - 8}" text-anchor="middle">'
               f'{x_field}</text>')
    svg.append(f'<text x="14" y="{(top + h - bottom) / 2}" text-anchor="middle" '
               f'transform="rotate(-90 14 {(top + h - bottom) / 2})">{field}</text>')
    legend_y = top + 10 if legend_at is None else sy(legend_at) + 10
    for n, (label, value) in enumerate(hlines):
        svg.append(f'<line x1="{left}" y1="{sy(value):.1f}" x2="{w - right}" y2="{sy(value):.1f}" '
                   f'stroke="#555" stroke-dasharray="6,4"/>')
        svg.append(f'<text x="{w - right + 8}" y="{sy(value) + 4:.1f}" fill="#555">{label}</text>')
    for n, (label, pts) in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        path = " ".join(f"{'M' if k == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}"
                        for k, (x, y) in enumerate(pts))
        svg.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in pts:
            svg.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{colour}"/>')
        svg.append(f'<rect x="{w - right + 8}" y="{legend_y + 18 * n - 9}" width="12" height="3" '
                   f'fill="{colour}"/>')
        svg.append(f'<text x="{w - right + 26}" y="{legend_y + 18 * n - 4}">{label}</text>')
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main(sys.argv)
