"""Inline SVG run charts and funnel plots for the portal, with their text summaries."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from functools import lru_cache
from html import escape

from naome_report.charts.svg_frame import Frame, synthetic_mark_svg
from naome_report.publish.portal_model import (
    RULE_TEXT,
    VARIATION_TEXT,
    Organisation,
    Row,
    Value,
    fmt_count,
    fmt_pct,
    is_missing,
)

# Making Data Count colours (charts.style): blue improvement, orange concern, grey common cause.
COLOURS = {"improvement": "#005EB8", "concern": "#ED8B00", "common_cause": "#768692", "neither": "#330072"}
OUTLIER_FILL = {"alarm_high": "#ED8B00", "alert_high": "#FFB81C", "within_limits": "#768692",
                "alert_low": "#FFB81C", "alarm_low": "#ED8B00", "not_assessed": "#FFFFFF", "not_in_process": "#AEB7BD"}
OUTLIER_SHAPE = {"alarm_high": "up", "alert_high": "up", "within_limits": "circle", "alert_low": "down",
                 "alarm_low": "down", "not_assessed": "square", "not_in_process": "circle"}
VARIATION_SHAPE = {"common_cause": "circle", "improvement": "square", "concern": "diamond", "neither": "hexagon"}
QUARTER = re.compile(r"^(?P<fy>\S+)\s+Q(?P<q>[1-4])$")


def _f(value: float) -> str:
    return f"{value:.1f}"


def shape_path(shape: str, x: float, y: float, r: float) -> str:
    """SVG path data for a marker centred on (x, y): shape carries meaning as well as colour."""
    if shape == "circle":
        return f"M{_f(x - r)} {_f(y)}a{_f(r)} {_f(r)} 0 1 0 {_f(2 * r)} 0a{_f(r)} {_f(r)} 0 1 0 {_f(-2 * r)} 0z"
    if shape == "square":
        s = r * 0.9
        return f"M{_f(x - s)} {_f(y - s)}h{_f(2 * s)}v{_f(2 * s)}h{_f(-2 * s)}z"
    if shape == "diamond":
        d = r * 1.3
        return f"M{_f(x)} {_f(y - d)}L{_f(x + d)} {_f(y)}L{_f(x)} {_f(y + d)}L{_f(x - d)} {_f(y)}z"
    if shape == "up":
        d = r * 1.25
        return f"M{_f(x)} {_f(y - d)}L{_f(x + d)} {_f(y + d * 0.75)}L{_f(x - d)} {_f(y + d * 0.75)}z"
    if shape == "down":
        d = r * 1.25
        return f"M{_f(x)} {_f(y + d)}L{_f(x + d)} {_f(y - d * 0.75)}L{_f(x - d)} {_f(y - d * 0.75)}z"
    if shape == "hexagon":
        d = r * 1.15
        pts = [(x + d * math.cos(math.pi / 6 + k * math.pi / 3), y + d * math.sin(math.pi / 6 + k * math.pi / 3))
               for k in range(6)]
        return "M" + "L".join(f"{_f(px)} {_f(py)}" for px, py in pts) + "z"
    raise ValueError(f"unknown marker shape {shape!r}")


def legend_marker(shape: str, fill: str, stroke: str = "#212B32") -> str:
    """A small standalone SVG marker for an HTML legend."""
    return (f'<svg class="key" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">'
            f'<path d="{shape_path(shape, 8, 8, 5)}" fill="{fill}" stroke="{stroke}" stroke-width="1.2"/></svg>')


def legend_line(dash: bool, colour: str) -> str:
    """A short line sample for an HTML legend."""
    style = ' stroke-dasharray="4 3"' if dash else ""
    return (f'<svg class="key" viewBox="0 0 24 16" width="24" height="16" aria-hidden="true" focusable="false">'
            f'<line x1="1" y1="8" x2="23" y2="8" stroke="{colour}" stroke-width="2"{style}/></svg>')


def nice_step(span: float, target_ticks: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about target_ticks ticks."""
    raw = max(span, 1e-9) / target_ticks
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * power:
            return m * power
    return 10 * power


def y_range(values: list[float], floor: float = 0.0, ceiling: float = 100.0) -> tuple[float, float, float]:
    """Axis bounds and tick step covering the values, padded, rounded to ticks, within [floor, ceiling]."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return floor, ceiling, 20.0
    lo, hi = min(finite), max(finite)
    pad = max((hi - lo) * 0.08, 1.0)
    step = nice_step(hi - lo + 2 * pad)
    lo = max(floor, math.floor((lo - pad) / step) * step)
    hi = min(ceiling, math.ceil((hi + pad) / step) * step)
    return lo, hi, step




def _y_axis(fr: Frame, step: float, label: str) -> list[str]:
    return list(_y_grid(fr, step) + _y_labels(fr, step, label))


@lru_cache(maxsize=512)
def _y_grid(fr: Frame, step: float) -> tuple[str, ...]:
    out = []
    v = fr.y0
    while v <= fr.y1 + 1e-9:
        y = _f(fr.y(v))
        out.append(f'<line class="grid" x1="{fr.left}" x2="{fr.width - fr.right}" y1="{y}" y2="{y}"/>')
        v += step
    return tuple(out)


@lru_cache(maxsize=512)
def _y_labels(fr: Frame, step: float, label: str) -> tuple[str, ...]:
    """Tick labels, and the axis title set horizontally above the plot (readable on a phone)."""
    out = []
    v = fr.y0
    while v <= fr.y1 + 1e-9:
        out.append(f'<text class="tick" x="{fr.left - 6}" y="{_f(fr.y(v) + 5)}" text-anchor="end">{tick_text(v, step)}%</text>')
        v += step
    out.append(f'<text class="axis-label" x="2" y="{fr.top - 14}" text-anchor="start">{escape(label)}</text>')
    return tuple(out)


def tick_text(value: float, step: float) -> str:
    """An axis label with no more decimals than the step needs: 20, 2.5, 0.5."""
    decimals = 0 if float(step).is_integer() else max(1, -math.floor(math.log10(step % 1 or step)))
    return f"{value:.{decimals}f}"


def _polyline(points: list[tuple[float, float]], cls: str) -> str:
    if len(points) < 2:
        return ""
    return f'<polyline class="{cls}" points="{" ".join(f"{_f(x)},{_f(y)}" for x, y in points)}"/>'


def quarter_label(period: str) -> tuple[str, str]:
    """('2024/25', 'Q1') from '2024/25 Q1'; ('', period) when the label has another form."""
    m = QUARTER.match(str(period))
    return (m["fy"], f"Q{m['q']}") if m else ("", str(period))


def point_text(row: Row) -> str:
    """The accessible name and tooltip of one run-chart point."""
    text = f"{row['period']}: {fmt_pct(row['percentage'])}"
    if not is_missing(row.get("numerator")) and not is_missing(row.get("denominator")):
        text += f" ({fmt_count(row['numerator'])} of {fmt_count(row['denominator'])} patients)"
    variation = str(row.get("variation") or "common_cause")
    text += f"; {VARIATION_TEXT.get(variation, variation)}"
    if _special(row) and not is_missing(row.get("rule")):
        text += f" ({RULE_TEXT.get(row['rule'], row['rule'])})"
    return text


def _special(row: Row) -> bool:
    return str(row.get("special_cause", "")).lower() in ("yes", "true", "1")


def _variation(row: Row) -> str:
    v = str(row.get("variation") or "common_cause")
    return v if v in VARIATION_SHAPE else "common_cause"


def run_chart_svg(rows: list[Row], chart_id: str, title: str, synthetic: bool = False) -> str:
    """An XmR run chart: points focusable with accessible names; special causes by colour and shape."""
    n = len(rows)
    published = [r for r in rows if not is_missing(r.get("percentage"))]
    values = [float(r["percentage"]) for r in published]
    values += [float(r[k]) for r in rows for k in ("centre", "lower_limit", "upper_limit") if not is_missing(r.get(k))]
    lo, hi, step = y_range(values)
    fr = Frame(480, 300, 56, 10, 36, 52, 0.5, n + 0.5, lo, hi)
    out = [f'<svg class="run-chart" id="{chart_id}" viewBox="0 0 {fr.width} {fr.height}" role="group" '
           f'aria-label="{escape(title)}: run chart, one point per quarter; use arrow keys to move between points">',
           '<g aria-hidden="true">', *_y_axis(fr, step, "Percentage of patients"), *_x_quarters(fr, rows)]
    for key, cls in (("upper_limit", "limit"), ("lower_limit", "limit"), ("centre", "mean")):
        pts = [(fr.x(i + 1), fr.y(min(max(float(r[key]), lo), hi))) for i, r in enumerate(rows) if not is_missing(r.get(key))]
        out.append(_polyline(pts, cls))
    segment: list[tuple[float, float]] = []
    for i, r in enumerate(rows):
        if is_missing(r.get("percentage")):
            out.append(_polyline(segment, "series"))
            segment = []
        else:
            segment.append((fr.x(i + 1), fr.y(float(r["percentage"]))))
    out.append(_polyline(segment, "series"))
    out.append('</g><g class="points">')
    for i, r in enumerate(rows):
        if is_missing(r.get("percentage")):
            continue
        v = _variation(r)
        label = escape(point_text(r))
        # The accessible name doubles as the tooltip text (portal.js); no <title>, which would show a second tooltip.
        out.append(f'<path class="pt v-{v}" d="{shape_path(VARIATION_SHAPE[v], fr.x(i + 1), fr.y(float(r["percentage"])), 5.5)}" '
                   f'fill="{COLOURS[v]}" tabindex="0" role="img" aria-label="{label}"/>')
    out.append("</g>" + (synthetic_mark_svg(fr.width, fr.height) if synthetic else "") + "</svg>")
    return "".join(out)


def _x_quarters(fr: Frame, rows: list[Row]) -> list[str]:
    return list(_x_quarters_cached(replace(fr, y0=0.0, y1=1.0), tuple(str(r["period"]) for r in rows)))


@lru_cache(maxsize=64)
def _x_quarters_cached(fr: Frame, periods: tuple[str, ...]) -> tuple[str, ...]:
    out = [f'<line class="axis" x1="{fr.left}" x2="{fr.width - fr.right}" y1="{fr.height - fr.bottom}" y2="{fr.height - fr.bottom}"/>']
    years: dict[str, list[int]] = {}
    for i, period in enumerate(periods):
        fy, q = quarter_label(period)
        x = fr.x(i + 1)
        out.append(f'<text class="tick" x="{_f(x)}" y="{fr.height - fr.bottom + 20}" text-anchor="middle">{escape(q)}</text>')
        if fy:
            years.setdefault(fy, []).append(i + 1)
    for fy, idx in years.items():
        x = (fr.x(idx[0]) + fr.x(idx[-1])) / 2
        out.append(f'<text class="tick year" x="{_f(x)}" y="{fr.height - fr.bottom + 42}" text-anchor="middle">{escape(fy)}</text>')
        if idx[0] > 1:
            xs = _f(fr.x(idx[0] - 0.5))
            out.append(f'<line class="year-sep" x1="{xs}" x2="{xs}" y1="{fr.height - fr.bottom}" y2="{fr.height - fr.bottom + 46}"/>')
    return tuple(out)


def run_chart_summary(rows: list[Row], direction_text: str) -> str:
    """A sentence or three saying what the run chart shows."""
    published = [r for r in rows if not is_missing(r.get("percentage"))]
    if not published:
        return (f"No quarter of the {len(rows)} has a published value (too few patients, suppressed or not available), "
                "so there is no chart to read.")
    first, last = rows[0]["period"], rows[-1]["period"]
    text = [f"{len(published)} of {len(rows)} quarters from {first} to {last} have a published value. "
            f"The latest published quarter, {published[-1]['period']}, was {fmt_pct(published[-1]['percentage'])}."]
    ref = published[-1]
    if not is_missing(ref.get("centre")):
        limits = "Trial limits" if str(ref.get("limits_status")) == "trial" else "Process limits"
        text.append(f"The centre line was {fmt_pct(ref['centre'])}; {limits.lower()} run from "
                    f"{fmt_pct(ref.get('lower_limit'))} to {fmt_pct(ref.get('upper_limit'))}"
                    + (" (fewer quarters than needed to fix the limits)." if limits == "Trial limits" else "."))
    missing = [r for r in rows if is_missing(r.get("percentage"))]
    if missing:
        reasons: dict[str, list[str]] = {}
        for r in missing:
            reasons.setdefault(str(r.get("status") or "not published").replace("_", " "), []).append(str(r["period"]))
        text.append("No value for " + "; ".join(f"{', '.join(qs)} ({why})" for why, qs in reasons.items()) + ".")
    special = [r for r in published if _special(r)]
    if special:
        by_kind: dict[str, list[str]] = {}
        for r in special:
            by_kind.setdefault(_variation(r), []).append(str(r["period"]))
        parts = [f"{VARIATION_TEXT[k].removeprefix('Special cause: ')} in {', '.join(qs)}" for k, qs in by_kind.items()]
        text.append(f"{len(special)} quarter{'s' if len(special) != 1 else ''} showed special cause variation: "
                    + "; ".join(parts) + ".")
    else:
        text.append("All published quarters show common cause variation only (no special cause).")
    text.append(f"{direction_text}.")
    return " ".join(text)


def funnel_frame(curves: list[Row], points: list[tuple[float, float]]) -> tuple[Frame, float, float]:
    """Axes fitted to the organisations' points and the limits over their range of patients."""
    max_n = max([n for n, _ in points] + [10.0])
    xmax = math.ceil(max_n * 1.08 / nice_step(max_n, 5)) * nice_step(max_n, 5)
    min_n = min([n for n, _ in points] + [max_n])
    ys = [y for _, y in points]
    ys += [float(c[k]) for c in curves if min_n <= float(c["n"]) <= xmax for k in ("lower_998", "upper_998", "target")
           if not is_missing(c.get(k))]
    lo, hi, ystep = y_range(ys)
    return Frame(480, 360, 56, 24, 36, 48, 0, xmax, lo, hi), ystep, nice_step(xmax, 4)


def _funnel_plot(fr: Frame, ystep: float, curves: list[Row], clip_id: str) -> list[str]:
    """Grid, limit curves and the national line (the part shared by every organisation page)."""
    out = ['<g aria-hidden="true">', *_y_grid(fr, ystep),
           f'<clipPath id="{clip_id}"><rect x="{fr.left}" y="{fr.top}" width="{fr.width - fr.left - fr.right}" '
           f'height="{fr.height - fr.top - fr.bottom}"/></clipPath><g clip-path="url(#{clip_id})">']
    visible = [c for c in curves if 0 < float(c["n"]) <= fr.x1 * 1.02]
    for key, cls in (("lower_998", "limit998"), ("upper_998", "limit998"), ("lower_95", "limit95"), ("upper_95", "limit95")):
        out.append(_polyline([(fr.x(float(c["n"])), fr.y(float(c[key]))) for c in visible if not is_missing(c.get(key))], cls))
    if visible and not is_missing(visible[0].get("target")):
        y = _f(fr.y(float(visible[0]["target"])))
        out.append(f'<line class="target" x1="{fr.left}" x2="{fr.width - fr.right}" y1="{y}" y2="{y}"/>')
    out.append("</g></g>")
    return out


def funnel_labels(fr: Frame, ystep: float, xstep: float, y_label: str) -> str:
    """Axis lines, ticks and titles: drawn in the page (not the shared image) so page CSS can size them."""
    out = ['<g aria-hidden="true">', *_y_labels(fr, ystep, y_label),
           f'<line class="axis" x1="{fr.left}" x2="{fr.width - fr.right}" y1="{fr.height - fr.bottom}" y2="{fr.height - fr.bottom}"/>']
    v = 0.0
    while v <= fr.x1 + 1e-9:
        out.append(f'<text class="tick" x="{_f(fr.x(v))}" y="{fr.height - fr.bottom + 20}" text-anchor="middle">{fmt_count(v)}</text>')
        v += xstep
    out.append(f'<text class="axis-label" x="{_f((fr.left + fr.width - fr.right) / 2)}" y="{fr.height - 2}" '
               'text-anchor="middle">Number of patients</text></g>')
    return "".join(out)


def funnel_points(values: list[tuple[Organisation, Value]]) -> list[tuple[Organisation, Value, float, float]]:
    """The organisations that can be placed on a funnel: published, with a denominator and a value."""
    out = []
    for org, val in values:
        y = val.funnel_y
        den = None if val.row is None else val.row.get("denominator")
        if y is not None and not is_missing(den):
            out.append((org, val, float(den), y))
    return out


def funnel_svg(curves: list[Row], points: list[tuple[Organisation, Value, float, float]], title: str,
               y_label: str, *, background: bool = False, synthetic: bool = False) -> str:
    """A funnel plot of every organisation (indicator page), or the shared background of the organisation pages."""
    fr, ystep, xstep = funnel_frame(curves, [(n, y) for _, _, n, y in points])
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {fr.width} {fr.height}" '
            f'data-frame="{fr.x0} {fr.x1} {fr.y0} {fr.y1}"')
    out = [head + (' font-family="Arial, Liberation Sans, sans-serif"><style>' + SVG_STANDALONE_CSS + "</style>" if background
                   else f' class="funnel" role="img" aria-label="{escape(title)}">')]
    out += _funnel_plot(fr, ystep, curves, "clip-funnel")
    if not background:
        out.append(funnel_labels(fr, ystep, xstep, y_label))
    out.append('<g class="orgs" aria-hidden="true">')
    for org, val, n, y in points:
        status = val.outlier if not background else "within_limits"
        shape, fill = OUTLIER_SHAPE.get(status, "circle"), OUTLIER_FILL.get(status, "#768692")
        cls = "org bg" if background else f"org o-{status}"
        tip = "" if background else f"<title>{escape(org.name)}: {fmt_pct(y)} of {fmt_count(n)}; {escape(val.outlier_text)}</title>"
        size = 3.2 if background else (5.5 if status.startswith("alarm") else 4.5)
        out.append(f'<path class="{cls}" d="{shape_path(shape, fr.x(n), fr.y(y), size)}" fill="{fill}">{tip}</path>')
    out.append("</g>" + (synthetic_mark_svg(fr.width, fr.height) if synthetic else "") + "</svg>")
    return "".join(out)


def funnel_position_svg(background_href: str, fr: Frame, labels: str, org: Organisation, val: Value, label: str) -> str:
    """One organisation on the funnel: the shared background image (drawn on the same frame), axes and its marker."""
    den = None if val.row is None else val.row.get("denominator")
    mine = None if val.funnel_y is None or is_missing(den) else (float(den), val.funnel_y)
    out = [f'<svg class="funnel" viewBox="0 0 {fr.width} {fr.height}" role="img" aria-label="{escape(label)}">',
           f'<image href="{escape(background_href)}" x="0" y="0" width="{fr.width}" height="{fr.height}"/>', labels]
    if mine:
        x, y = fr.x(mine[0]), fr.y(mine[1])
        shape = OUTLIER_SHAPE.get(val.outlier, "circle")
        out.append(f'<path class="me-halo" d="{shape_path(shape, x, y, 10)}"/>')
        out.append(f'<path class="me" d="{shape_path(shape, x, y, 7.5)}"/>')
        anchor = "end" if x > fr.width * 0.7 else "start"
        dx = -14 if anchor == "end" else 14
        out.append(f'<text class="me-label" x="{_f(x + dx)}" y="{_f(y - 10)}" text-anchor="{anchor}">{escape(org.code)}</text>')
    out.append("</svg>")
    return "".join(out)


def funnel_position_text(org: Organisation, val: Value, ind_title: str, national: Value) -> str:
    """What the funnel shows for one organisation, in words."""
    if not val.published:
        status = val.status_text
        return f"{org.name} is not on the funnel plot for this indicator: {status[:1].lower()}{status[1:]}."
    limits = val.funnel_limits
    n = fmt_count(val.row.get("denominator"))
    value = fmt_pct(val.funnel_y)
    adjusted = " (case-mix adjusted)" if val.adjusted else ""
    text = f"{org.name}: {value}{adjusted} of {n} patients, against {fmt_pct(national.percentage)} nationally."
    if limits:
        text += (f" For an organisation of this size the 95% limits are {fmt_pct(limits['lower_95'])} to "
                 f"{fmt_pct(limits['upper_95'])} and the 99.8% limits {fmt_pct(limits['lower_998'])} to "
                 f"{fmt_pct(limits['upper_998'])}.")
    return text + f" Outlier status: {val.outlier_text}."


def funnel_summary(points: list[tuple[Organisation, Value, float, float]], national: Value, method: str) -> str:
    """How many organisations fall in each band of the funnel, in words."""
    counts: dict[str, int] = {}
    for _, val, _, _ in points:
        counts[val.outlier] = counts.get(val.outlier, 0) + 1
    parts = [f"{counts.get(k, 0)} {w}" for k, w in (
        ("alarm_high", "above the 99.8% limit (alarm)"), ("alert_high", "above the 95% limit (alert)"),
        ("within_limits", "within the 95% limits"), ("alert_low", "below the 95% limit (alert)"),
        ("alarm_low", "below the 99.8% limit (alarm)")) if counts.get(k)]
    not_assessed = counts.get("not_assessed", 0)
    text = (f"The funnel plot shows {len(points)} organisations by number of patients, around the national value of "
            f"{fmt_pct(national.percentage)}. ")
    text += ("Of these, " + "; ".join(parts) + "." if parts else "No organisation was assessed for outlier status.")
    if not_assessed and parts:
        text += f" {not_assessed} were not assessed."
    return text + (f" Limits: {method}." if method else "")


# Used when the background SVG is loaded as an image: no page CSS reaches it.
SVG_STANDALONE_CSS = (
    ".grid{stroke:#E8EDEE;stroke-width:1}"
    ".limit998{fill:none;stroke:#425563;stroke-width:1.5}.limit95{fill:none;stroke:#425563;stroke-width:1.5;stroke-dasharray:6 4}"
    ".target{stroke:#003087;stroke-width:2}.org.bg{stroke:#425563;stroke-width:.6;fill:#AEB7BD}"
)
