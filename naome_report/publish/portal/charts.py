"""Inline SVG run charts, funnel plots and Making Data Count icons for the portal, with their text summaries."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from html import escape

from naome_report.charts import style
from naome_report.charts.svg_frame import Frame, synthetic_mark_svg
from naome_report.publish.portal.model import Row, Unit, Value, comparison_term, fmt_count, fmt_pct, is_missing
from naome_report.vocabulary import FUNNEL_POSITION, VARIATION

VARIATION_COLOURS = {"improvement": style.IMPROVEMENT, "concern": style.CONCERN, "common_cause": style.COMMON_CAUSE,
                     "neither": style.NEITHER}
VARIATION_SHAPE = {"common_cause": "circle", "improvement": "square", "concern": "diamond", "neither": "hexagon"}
# Shape gives the side of the funnel (up = above the limits, down = below); colour gives the judgement.
POSITION_SHAPE = {"above_998": "up", "above_95": "up", "within": "circle", "below_95": "down", "below_998": "down",
                  "not_assessed": "square"}
RULE_TEXT = {"outside_limits": "a point outside the process limits", "trend": "a run of points all rising or all falling",
             "two_of_three": "two of three points close to a limit", "shift": "a run of points on one side of the centre line"}
LIMITS_TEXT = {"trial": "trial limits (fewer points than needed to fix them)", "baseline": "process limits",
               "recalculated": "process limits, recalculated after a sustained shift"}
QUARTER = re.compile(r"^(?P<fy>\S+)\s+Q(?P<q>[1-4])$")


def judgement_fill(code: str) -> str:
    """The fill of a marker judged better, worse or similar (blue, orange, grey); white where not compared."""
    return style.ROLE_COLOURS[comparison_term(code).colour_role]


def _f(value: float) -> str:
    return f"{value:.1f}"


def shape_path(shape: str, x: float, y: float, r: float) -> str:
    """SVG path data for a marker centred on (x, y): shape carries meaning as well as colour."""
    # Coordinates to one decimal, as _f writes them, inline (about 250,000 numbers a build).
    if shape == "circle":
        return f"M{x - r:.1f} {y:.1f}a{r:.1f} {r:.1f} 0 1 0 {2 * r:.1f} 0a{r:.1f} {r:.1f} 0 1 0 {-2 * r:.1f} 0z"
    if shape == "square":
        s = r * 0.9
        return f"M{x - s:.1f} {y - s:.1f}h{2 * s:.1f}v{2 * s:.1f}h{-2 * s:.1f}z"
    if shape == "diamond":
        d = r * 1.3
        return f"M{x:.1f} {y - d:.1f}L{x + d:.1f} {y:.1f}L{x:.1f} {y + d:.1f}L{x - d:.1f} {y:.1f}z"
    if shape == "up":
        d = r * 1.25
        return f"M{x:.1f} {y - d:.1f}L{x + d:.1f} {y + d * 0.75:.1f}L{x - d:.1f} {y + d * 0.75:.1f}z"
    if shape == "down":
        d = r * 1.25
        return f"M{x:.1f} {y + d:.1f}L{x + d:.1f} {y - d * 0.75:.1f}L{x - d:.1f} {y - d * 0.75:.1f}z"
    if shape == "hexagon":
        d = r * 1.15
        pts = [(x + d * math.cos(math.pi / 6 + k * math.pi / 3), y + d * math.sin(math.pi / 6 + k * math.pi / 3))
               for k in range(6)]
        return "M" + "L".join(f"{px:.1f} {py:.1f}" for px, py in pts) + "z"
    raise ValueError(f"unknown marker shape {shape!r}")


@lru_cache(maxsize=64)
def legend_marker(shape: str, fill: str, stroke: str = style.NHS_BLACK) -> str:
    """A small standalone SVG marker for an HTML legend (sized by the page's CSS)."""
    return (f'<svg class="key" viewBox="0 0 16 16" aria-hidden="true"><path d="{shape_path(shape, 8, 8, 5)}" '
            f'fill="{fill}" stroke="{stroke}"/></svg>')


@lru_cache(maxsize=16)
def legend_line(dash: bool, colour: str) -> str:
    """A short line sample for an HTML legend."""
    return f'<span class="key-line{" dash" if dash else ""}" style="border-color:{colour}" aria-hidden="true"></span>'


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
    lines = []
    v = fr.y0
    while v <= fr.y1 + 1e-9:
        lines.append(f"M{fr.left} {_f(fr.y(v))}H{fr.width - fr.right}")
        v += step
    return (f'<path class="grid" d="{"".join(lines)}"/>',)


@lru_cache(maxsize=512)
def _y_labels(fr: Frame, step: float, label: str) -> tuple[str, ...]:
    """Tick labels, and the axis title set horizontally above the plot (readable on a phone)."""
    out = ['<g class="tick" text-anchor="end">']
    v = fr.y0
    while v <= fr.y1 + 1e-9:
        out.append(f'<text x="{fr.left - 6}" y="{_f(fr.y(v) + 5)}">{tick_text(v, step)}%</text>')
        v += step
    out.append(f'</g><text class="axis-label" x="2" y="{fr.top - 14}">{escape(label)}</text>')
    return tuple(out)


def tick_text(value: float, step: float) -> str:
    """An axis label with no more decimals than the step needs: 20, 2.5, 0.5."""
    decimals = 0 if float(step).is_integer() else max(1, -math.floor(math.log10(step % 1 or step)))
    return f"{value:.{decimals}f}"


def _polyline(points: list[tuple[float, float]], cls: str) -> str:
    if len(points) < 2:
        return ""
    return f'<polyline class="{cls}" points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}"/>'


# ---------------------------------------------------------------------------- run charts

def quarter_label(period: str) -> tuple[str, str]:
    """('2024/25', 'Q1') from '2024/25 Q1'; ('', period) when the label has another form."""
    m = QUARTER.match(str(period))
    return (m["fy"], f"Q{m['q']}") if m else ("", str(period))


def centre(row: Row) -> float | None:
    """A point's centre line: the p-chart centre, or the older results' mean."""
    value = row.get("centre", row.get("mean"))
    return None if is_missing(value) else float(value)


def _published(row: Row) -> bool:
    return not is_missing(row.get("percentage"))


def _special(row: Row) -> bool:
    return str(row.get("special_cause", "")).lower() in ("yes", "true", "1")


def variation_code(row: Row) -> str:
    v = str(row.get("variation") or "common_cause")
    return v if v in VARIATION_SHAPE else "common_cause"


def variation_text(code: str) -> str:
    """'Common cause variation', 'Special cause: improvement' ... from the vocabulary."""
    return VARIATION[code].long[:1].upper() + VARIATION[code].long[1:]


def point_text(row: Row, rolling: bool = False) -> str:
    """The accessible name and tooltip of one run-chart point."""
    when = f"12 months to {row['period']}" if rolling else str(row["period"])
    text = f"{when}: {fmt_pct(row['percentage'])}"
    if not is_missing(row.get("numerator")) and not is_missing(row.get("denominator")):
        text += f" ({fmt_count(row['numerator'])} of {fmt_count(row['denominator'])} patients)"
    text += f"; {variation_text(variation_code(row))}"
    if _special(row) and not is_missing(row.get("rule")):
        text += f" ({RULE_TEXT.get(row['rule'], row['rule'])})"
    return text


def is_rolling(rows: list[Row]) -> bool:
    return any(str(r.get("series") or "") == "rolling_12_months" for r in rows)


def _segments(rows: list[Row], key: str) -> list[list[tuple[int, float]]]:
    """Runs of consecutive points with a value of `key`, split where the limits are recalculated."""
    out: list[list[tuple[int, float]]] = [[]]
    previous_segment = None
    for i, r in enumerate(rows):
        value = centre(r) if key == "centre" else (None if is_missing(r.get(key)) else float(r[key]))
        segment = r.get("limits_segment")
        if value is None or (previous_segment is not None and segment != previous_segment):
            out.append([])
        if value is not None:
            out[-1].append((i + 1, value))
        previous_segment = segment
    return [s for s in out if s]


def _mark(fr: Frame, synthetic: bool) -> str:
    return synthetic_mark_svg(fr.width, fr.height) if synthetic else ""


def run_chart_svg(rows: list[Row], chart_id: str, title: str, synthetic: bool = False) -> str:
    """A Making Data Count run chart: points focusable with accessible names; special causes by colour and shape."""
    n = len(rows)
    rolling = is_rolling(rows)
    values = [float(r["percentage"]) for r in rows if _published(r)]
    values += [float(r[k]) for r in rows for k in ("lower_limit", "upper_limit") if not is_missing(r.get(k))]
    values += [c for c in (centre(r) for r in rows) if c is not None]
    lo, hi, step = y_range(values)
    fr = Frame(480, 300, 56, 10, 36, 52, 0.5, n + 0.5, lo, hi)
    what = "one point per quarter, each the 12 months to that quarter" if rolling else "one point per quarter"
    out = [f'<svg class="run-chart" id="{chart_id}" viewBox="0 0 {fr.width} {fr.height}" role="group" '
           f'aria-label="{escape(title)}: run chart, {what}; use arrow keys to move between points">',
           '<g aria-hidden="true">', *_y_axis(fr, step, "Percentage of patients"), *_x_quarters(fr, rows)]
    for key, cls in (("upper_limit", "limit"), ("lower_limit", "limit"), ("centre", "mean")):
        for segment in _segments(rows, key):
            out.append(_polyline([(fr.x(i), fr.y(min(max(v, lo), hi))) for i, v in segment], cls))
    line: list[tuple[float, float]] = []
    for i, r in enumerate(rows):
        if not _published(r):
            out.append(_polyline(line, "series"))
            line = []
        else:
            line.append((fr.x(i + 1), fr.y(float(r["percentage"]))))
    out.append(_polyline(line, "series"))
    out.append('</g><g class="points">')
    for i, r in enumerate(rows):
        if not _published(r):
            continue
        v = variation_code(r)
        # The accessible name doubles as the tooltip text (portal.js); no <title>, which would show a second tooltip.
        out.append(f'<path class="pt v-{v}" d="{shape_path(VARIATION_SHAPE[v], fr.x(i + 1), fr.y(float(r["percentage"])), 5.5)}" '
                   f'tabindex="0" role="img" aria-label="{escape(point_text(r, rolling))}"/>')
    out.append("</g>" + _mark(fr, synthetic) + "</svg>")
    return "".join(out)


def _x_quarters(fr: Frame, rows: list[Row]) -> list[str]:
    return list(_x_quarters_cached(replace(fr, y0=0.0, y1=1.0), tuple(str(r["period"]) for r in rows)))


@lru_cache(maxsize=64)
def _x_quarters_cached(fr: Frame, periods: tuple[str, ...]) -> tuple[str, ...]:
    base = fr.height - fr.bottom
    out = [f'<path class="axis" d="M{fr.left} {base}H{fr.width - fr.right}"/><g class="tick" text-anchor="middle">']
    years: dict[str, list[int]] = {}
    for i, period in enumerate(periods):
        fy, q = quarter_label(period)
        out.append(f'<text x="{_f(fr.x(i + 1))}" y="{base + 20}">{escape(q)}</text>')
        if fy:
            years.setdefault(fy, []).append(i + 1)
    out.append('</g><g class="tick year" text-anchor="middle">')
    separators = []
    for fy, idx in years.items():
        x = (fr.x(idx[0]) + fr.x(idx[-1])) / 2
        out.append(f'<text x="{_f(x)}" y="{base + 42}">{escape(fy)}</text>')
        if idx[0] > 1:
            separators.append(f"M{_f(fr.x(idx[0] - 0.5))} {base}v46")
    out.append("</g>")
    if separators:
        out.append(f'<path class="year-sep" d="{"".join(separators)}"/>')
    return tuple(out)


def chart_status(rows: list[Row], min_points: int) -> str:
    """'charted' or 'not_enough_points': the results' verdict, else the published points against the minimum."""
    given = {str(r.get("chart_status")) for r in rows if not is_missing(r.get("chart_status"))}
    if given:
        return "not_enough_points" if "not_enough_points" in given else "charted"
    return "charted" if sum(_published(r) for r in rows) >= max(min_points, 2) else "not_enough_points"


def limits_sentence(row: Row) -> str:
    """'The centre line was 55.0%; process limits run from 40.1% to 69.9%.' ('' where the point has no limits)."""
    middle = centre(row)
    if middle is None:
        return ""
    text = f"The centre line was {fmt_pct(middle)}"
    low, high = row.get("lower_limit"), row.get("upper_limit")
    if not is_missing(low) and not is_missing(high):
        kind = LIMITS_TEXT.get(str(row.get("limits_status") or ""), "process limits")
        text += f"; at the latest point the {kind} run from {fmt_pct(low)} to {fmt_pct(high)}"
    return text + "."


def run_chart_summary(rows: list[Row], direction_text: str) -> str:
    """A sentence or three saying what the run chart shows."""
    published = [r for r in rows if _published(r)]
    rolling = is_rolling(rows)
    unit = "points (each the 12 months to the end of a quarter)" if rolling else "quarters"
    if not published:
        return (f"None of the {len(rows)} {unit} has a published value (too few patients, suppressed or not "
                "available), so there is no chart to read.")
    first, last = rows[0]["period"], rows[-1]["period"]
    latest = published[-1]
    when = f"the 12 months to {latest['period']}" if rolling else latest["period"]
    text = [f"{len(published)} of {len(rows)} {unit} from {first} to {last} have a published value. "
            f"The latest, {when}, was {fmt_pct(latest['percentage'])}."]
    limits = limits_sentence(latest)
    if limits:
        text.append(limits)
    missing = [r for r in rows if not _published(r)]
    if missing:
        reasons: dict[str, list[str]] = {}
        for r in missing:
            reasons.setdefault(str(r.get("status") or "not published").replace("_", " "), []).append(str(r["period"]))
        text.append("No value for " + "; ".join(f"{', '.join(qs)} ({why})" for why, qs in reasons.items()) + ".")
    special = [r for r in published if _special(r)]
    if special:
        by_kind: dict[str, list[str]] = {}
        for r in special:
            by_kind.setdefault(variation_code(r), []).append(str(r["period"]))
        parts = [f"{VARIATION[k].short.lower() if k != 'neither' else 'no preferred direction'} in {', '.join(qs)}"
                 for k, qs in by_kind.items()]
        text.append(f"{len(special)} point{'s' if len(special) != 1 else ''} showed special-cause variation: "
                    + "; ".join(parts) + ".")
    else:
        text.append("Every published point shows common-cause variation only (no special cause).")
    text.append(f"{direction_text}.")
    return " ".join(text)


@dataclass(frozen=True)
class VariationIcon:
    """The Making Data Count variation icon of a series: its latest point's variation, high or low."""

    code: str
    high_low: str  # "high", "low" or ""
    text: str
    svg: str


def variation_icon(rows: list[Row]) -> VariationIcon | None:
    """The icon summarising a run chart: variation at the latest published point (None without a point)."""
    published = [r for r in rows if _published(r)]
    if not published:
        return None
    latest = published[-1]
    code = variation_code(latest)
    middle = centre(latest)
    high_low = "" if code == "common_cause" or middle is None else (
        "high" if float(latest["percentage"]) > middle else "low")
    words = {"common_cause": "Common-cause variation: no significant change",
             "improvement": f"Special-cause improving variation ({high_low} values)",
             "concern": f"Special-cause concerning variation ({high_low} values)",
             "neither": f"Special-cause variation, {high_low} values (no preferred direction)"}[code]
    return VariationIcon(code, high_low, words, _icon_svg(code, high_low))


@lru_cache(maxsize=16)
def _icon_svg(code: str, high_low: str) -> str:
    colour = VARIATION_COLOURS[code]
    parts = [f'<svg class="mdc-icon" viewBox="0 0 40 40" width="40" height="40" aria-hidden="true" focusable="false">',
             f'<circle cx="20" cy="20" r="17" fill="{style.WHITE}" stroke="{colour}" stroke-width="3"/>']
    if code == "common_cause":
        parts.append(f'<polyline points="8,22 14,18 20,23 26,17 32,21" fill="none" stroke="{colour}" stroke-width="2.5"/>')
    else:
        letter = "H" if high_low == "high" else "L"
        y = 16 if high_low == "high" else 30
        parts.append(f'<text x="20" y="{y}" text-anchor="middle" font-size="12" font-weight="bold" '
                     f'font-family="Arial, Liberation Sans, sans-serif" fill="{style.NHS_BLACK}">{letter}</text>')
        dots = (28, 26, 22) if high_low == "high" else (10, 14, 18)
        parts += [f'<circle cx="{11 + 9 * k}" cy="{dy}" r="3" fill="{colour}"/>' for k, dy in enumerate(dots)]
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------------------- funnels

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
    base = fr.height - fr.bottom
    out = ['<g aria-hidden="true">', *_y_labels(fr, ystep, y_label),
           f'<path class="axis" d="M{fr.left} {base}H{fr.width - fr.right}"/><g class="tick" text-anchor="middle">']
    v = 0.0
    while v <= fr.x1 + 1e-9:
        out.append(f'<text x="{_f(fr.x(v))}" y="{base + 20}">{fmt_count(v)}</text>')
        v += xstep
    out.append(f'</g><text class="axis-label" x="{_f((fr.left + fr.width - fr.right) / 2)}" y="{fr.height - 2}" '
               'text-anchor="middle">Number of patients</text></g>')
    return "".join(out)


@dataclass(frozen=True)
class FunnelPoint:
    """An organisation placed on a funnel plot."""

    unit: Unit
    value: Value
    n: float
    y: float


def funnel_points(values: list[tuple[Unit, Value]]) -> list[FunnelPoint]:
    """The organisations that can be placed on a funnel: published, with a denominator and a value."""
    out = []
    for unit, val in values:
        y, den = val.funnel_y, val.denominator
        if y is not None and den is not None:
            out.append(FunnelPoint(unit, val, den, y))
    return out


def marker_style(val: Value) -> tuple[str, str, float]:
    """Shape (side of the limits), fill (judgement) and size (beyond 99.8% larger) of a funnel marker."""
    position = val.position if val.position in POSITION_SHAPE else "not_assessed"
    size = 5.5 if position.endswith("998") else 4.5
    return POSITION_SHAPE[position], judgement_fill(val.vs_national), size


def funnel_svg(curves: list[Row], points: list[FunnelPoint], title: str, y_label: str, *,
               background: bool = False, clip_id: str = "clip-funnel", synthetic: bool = False) -> str:
    """A funnel plot of every organisation (indicator page), or the shared background of the other pages."""
    fr, ystep, xstep = funnel_frame(curves, [(p.n, p.y) for p in points])
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {fr.width} {fr.height}" '
            f'data-frame="{fr.x0} {fr.x1} {fr.y0} {fr.y1}"')
    out = [head + (' font-family="Arial, Liberation Sans, sans-serif"><style>' + standalone_css() + "</style>" if background
                   else f' class="funnel" role="img" aria-label="{escape(title)}">')]
    out += _funnel_plot(fr, ystep, curves, clip_id)
    if not background:
        out.append(funnel_labels(fr, ystep, xstep, y_label))
    if background:
        out.append('<g class="bg">' + "".join(f'<circle cx="{_f(fr.x(p.n))}" cy="{_f(fr.y(p.y))}" r="3.2"/>' for p in points)
                   + "</g>" + _mark(fr, synthetic) + "</svg>")
        return "".join(out)
    out.append('<g class="orgs" aria-hidden="true">')
    for p in points:
        shape, fill, size = marker_style(p.value)
        term = comparison_term(p.value.vs_national)
        tip = f"{p.unit.name}: {fmt_pct(p.y)} of {fmt_count(p.n)}; {FUNNEL_POSITION[p.value.position].long}"
        tip += f"; {term.long} England and Wales" if p.value.vs_national else ""
        out.append(f'<path class="org p-{p.value.position}" data-in="{escape(p.unit.within)}" d="{shape_path(shape, fr.x(p.n), fr.y(p.y), size)}" '
                   f'fill="{fill}"><title>{escape(tip)}</title></path>')
    out.append("</g>" + _mark(fr, synthetic) + "</svg>")
    return "".join(out)


def funnel_highlight_svg(background_href: str, fr: Frame, labels: str, marked: list[FunnelPoint], title: str,
                         label_codes: bool) -> str:
    """The shared background (every organisation in grey) with some organisations marked in dark blue."""
    out = [f'<svg class="funnel" viewBox="0 0 {fr.width} {fr.height}" role="img" aria-label="{escape(title)}">',
           f'<image href="{escape(background_href)}" x="0" y="0" width="{fr.width}" height="{fr.height}"/>', labels]
    labels_at: list[tuple[float, float, float, float]] = []
    for p in marked:
        x, y = fr.x(p.n), fr.y(p.y)
        shape = POSITION_SHAPE.get(p.value.position, "circle")
        if not label_codes:  # many marked: one small marker each, no halo
            out.append(f'<circle class="mem" cx="{_f(x)}" cy="{_f(y)}" r="4.5"/>' if shape == "circle" else
                       f'<path class="mem" d="{shape_path(shape, x, y, 5)}"/>')
            continue
        out.append(f'<path class="me-halo" d="{shape_path(shape, x, y, 10)}"/>')
        out.append(f'<path class="me" d="{shape_path(shape, x, y, 7.5)}"/>')
        if label_codes:
            # A code is written only where it does not cover another; the table names every organisation.
            anchor = "end" if x > fr.width * 0.7 else "start"
            width = 10.0 * len(p.unit.code) + 4
            left = x - 14 - width if anchor == "end" else x + 14
            box = (left, y - 26, left + width, y - 6)
            if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in labels_at):
                continue
            labels_at.append(box)
            out.append(f'<text class="me-label" x="{_f(x + (-14 if anchor == "end" else 14))}" y="{_f(y - 10)}" '
                       f'text-anchor="{anchor}">{escape(p.unit.code)}</text>')
    out.append("</svg>")
    return "".join(out)


def funnel_position_text(unit: Unit, val: Value, national: Value) -> str:
    """What the funnel shows for one organisation, in words."""
    if not val.published:
        status = val.status_text
        return f"{unit.name} is not on the funnel plot for this indicator: {status[:1].lower()}{status[1:]}."
    limits = val.funnel_limits
    adjusted = " (case-mix adjusted)" if val.adjusted else ""
    text = (f"{unit.name}: {fmt_pct(val.funnel_y)}{adjusted} of {fmt_count(val.denominator)} patients, against "
            f"{fmt_pct(national.percentage)} for England and Wales.")
    if limits:
        text += (f" For an organisation of this size the 95% limits are {fmt_pct(limits['lower_95'])} to "
                 f"{fmt_pct(limits['upper_95'])} and the 99.8% limits {fmt_pct(limits['lower_998'])} to "
                 f"{fmt_pct(limits['upper_998'])}.")
    text += f" It is {FUNNEL_POSITION.get(val.position, FUNNEL_POSITION['not_assessed']).long}"
    if val.vs_national:
        text += f": {comparison_term(val.vs_national).long} England and Wales"
    return text + "."


def funnel_summary(points: list[FunnelPoint], national: Value, method: str) -> str:
    """How many organisations fall on each side of the limits and how they compare, in words."""
    counts: dict[str, int] = {}
    judged: dict[str, int] = {}
    for p in points:
        counts[p.value.position] = counts.get(p.value.position, 0) + 1
        if p.value.vs_national:
            judged[p.value.vs_national] = judged.get(p.value.vs_national, 0) + 1
    parts = [f"{counts[k]} {FUNNEL_POSITION[k].long}" for k in FUNNEL_POSITION if counts.get(k) and k != "not_assessed"]
    text = (f"The funnel plot shows {len(points)} organisations by number of patients, around the England and Wales "
            f"value of {fmt_pct(national.percentage)}. ")
    text += ("Of these, " + "; ".join(parts) + "." if parts else "No organisation was placed against the limits.")
    if counts.get("not_assessed") and parts:
        text += f" {counts['not_assessed']} were not assessed."
    if judged:
        words = [f"{n} {comparison_term(code).short.lower()}" for code, n in judged.items() if code != "not_assessed"]
        text += " Compared with England and Wales: " + ", ".join(words) + "."
    return text + (f" Limits: {method}." if method else "")


def standalone_css() -> str:
    """The styles of the shared funnel background, which is loaded as an image (no page CSS reaches it)."""
    return (f".grid{{fill:none;stroke:{style.NHS_PALE_GREY};stroke-width:1}}"
            f".limit998{{fill:none;stroke:{style.NHS_DARK_GREY};stroke-width:1.5}}"
            f".limit95{{fill:none;stroke:{style.NHS_DARK_GREY};stroke-width:1.5;stroke-dasharray:6 4}}"
            f".target{{stroke:{style.NHS_DARK_BLUE};stroke-width:2}}"
            f".bg circle{{stroke:{style.NHS_DARK_GREY};stroke-width:.6;fill:{style.PAGE_COLOURS['border-strong']}}}")
