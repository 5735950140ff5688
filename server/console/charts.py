"""Bar charts drawn on the server as SVG geometry (no chart library, no script: the page prints
and reads the same with JavaScript off).  ``bars`` lays out one bar group per label; the template
``console/_chart.html`` draws it."""
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 620, 250, 52, 64, 12  # labels 14 units: ≥ 12 px at the smallest width drawn


def _nice_top(value):
    """A round axis top at or above ``value`` (1, 2, 5 × 10ⁿ)."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def bars(labels, series, *, stacked=False, colours, unit=""):
    """``series``: ``{name: [value per label]}``.  Returns the chart's rectangles, axis ticks and legend."""
    names = list(series)
    totals = [sum(series[n][i] for n in names) if stacked else max([series[n][i] for n in names] or [0])
              for i in range(len(labels))]
    top = _nice_top(max(totals or [0]))
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(len(labels), 1)
    group_w = slot * 0.7
    rects = []
    for i, label in enumerate(labels):
        x0 = LEFT + i * slot + (slot - group_w) / 2
        base = 0.0
        for j, name in enumerate(names):
            value = series[name][i]
            h = plot_h * value / top
            if stacked:
                x, w, y = x0, group_w, TOP + plot_h - base - h
                base += h
            else:
                w = group_w / len(names)
                x, y = x0 + j * w, TOP + plot_h - h
            rects.append({"x": round(x, 1), "y": round(y, 1), "w": round(max(w - 1, 1), 1), "h": round(h, 1),
                          "fill": colours[name], "title": f"{label} {name}：{value:g}{unit if unit != '%' else ''}"})
    ticks = [{"y": round(TOP + plot_h - plot_h * k / 4, 1), "label": f"{top * k / 4:g}"} for k in range(5)]
    columns = [{"x": round(LEFT + i * slot + slot / 2, 1), "label": label} for i, label in enumerate(labels)]
    legend = [{"name": name, "fill": colours[name]} for name in names]
    return {"width": WIDTH, "height": HEIGHT, "rects": rects, "ticks": ticks, "columns": columns, "legend": legend,
            "left": LEFT, "right": WIDTH - 8, "baseline": TOP + plot_h, "label_y": TOP + plot_h + 16}
