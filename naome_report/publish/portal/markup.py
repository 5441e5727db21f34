"""Small pieces of portal HTML built in Python (a loop in Jinja is ten times slower): cells, badges, table rows."""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape

from naome_report.publish.portal.model import EW, Value, comparison_term
from naome_report.vocabulary import OUTLIER_STATUS

# Sort order of the HQIP outlier statuses: low alarms first, not in the process last.
OUTLIER_ORDER = ("alarm_low", "alert_low", "within_limits", "alert_high", "alarm_high", "not_assessed", "not_in_process")
JUDGEMENT_ORDER = ("worse", "lower", "similar", "higher", "better", "not_assessed", "")


def judgement(code: str, against: str = EW) -> Markup:
    """A comparison in a symbol, a word and a colour role: 'Better' (than `against`, for screen readers too)."""
    return _judgement(code or "", against)


@lru_cache(maxsize=512)
def _judgement(code: str, against: str) -> Markup:
    term = comparison_term(code)
    if not code or code == "not_assessed":
        return Markup(f'<span class="judge j-none" data-judgement="{escape(code or "none")}">{escape(term.short)}</span>')
    tail = "to" if code == "similar" else "than"
    return Markup(f'<span class="judge j-{term.colour_role}" data-judgement="{escape(code)}">'
                  f'<span class="sym" aria-hidden="true">{escape(term.symbol)}</span> {escape(term.short)}'
                  f'<span class="visually-hidden"> {tail} {escape(against)}</span></span>')


def outlier(val: Value) -> Markup:
    """The HQIP outlier status as a symbol and words (never colour alone)."""
    return _outlier(val.outlier)


@lru_cache(maxsize=16)
def _outlier(status: str) -> Markup:
    term = OUTLIER_STATUS.get(status, OUTLIER_STATUS["not_assessed"])
    if status == "not_in_process":
        return Markup(f'<span class="outlier o-not_in_process muted">{escape(term.short)}</span>')
    symbol = f'<span class="sym" aria-hidden="true">{escape(term.symbol)}</span> ' if term.symbol else ""
    return Markup(f'<span class="outlier o-{escape(status)}" data-outlier="{escape(status)}">{symbol}{escape(term.short)}</span>')


def judgement_cell(code: str, against: str = EW, label: str = "") -> Markup:
    """A table cell with a comparison, sortable from worse to better."""
    return _judgement_cell(code or "", against, label)


@lru_cache(maxsize=1024)
def _judgement_cell(code: str, against: str, label: str) -> Markup:
    order = JUDGEMENT_ORDER.index(code) if code in JUDGEMENT_ORDER else len(JUDGEMENT_ORDER)
    data_label = f' data-label="{escape(label)}"' if label else ""
    return Markup(f'<td class="judgement" data-sort="{order}"{data_label}>{judgement(code, against)}</td>')


def outlier_cell(val: Value, label: str = "") -> Markup:
    return _outlier_cell(val.outlier, label)


@lru_cache(maxsize=64)
def _outlier_cell(status: str, label: str) -> Markup:
    order = OUTLIER_ORDER.index(status) if status in OUTLIER_ORDER else len(OUTLIER_ORDER)
    data_label = f' data-label="{escape(label)}"' if label else ""
    return Markup(f'<td class="outlier-cell" data-sort="{order}"{data_label}>{_outlier(status)}</td>')


def value_cell(val: Value | None, cls: str = "", label: str = "") -> Markup:
    """A table cell holding a value (right-aligned number) or its status in words, with a sort key."""
    data_label = f' data-label="{escape(label)}"' if label else ""
    if val is None:
        return Markup(f'<td class="{cls} na"{data_label}>—<span class="visually-hidden">not applicable</span></td>')
    if val.published:
        return Markup(f'<td class="{cls} num" data-sort="{val.sort_key:g}"{data_label}>{escape(val.main)}</td>')
    return Markup(f'<td class="{cls} status-cell" data-sort="-1"{data_label}>{escape(val.status_text)}</td>')


def result_cell(val: Value, label: str = "", counts: bool = False, tag: bool = True, brief: bool = False) -> Markup:
    """A result with its CI beneath it (and the crude rate beside an adjusted one), or the status in a few words.

    `brief` gives the value alone (with its 'adjusted' tag), for a second result beside the first."""
    memo = val.__dict__.setdefault("_cells", {})
    key = ("result", label, counts, tag, brief)
    cell = memo.get(key)
    if cell is None:
        # The same cell under another column label (summary, history and area tables) differs only in its label.
        parts = memo.get(("result", counts, tag, brief))
        if parts is None:
            parts = memo[("result", counts, tag, brief)] = _result_cell(val, counts, tag, brief)
        data_label = f' data-label="{html.escape(label)}"' if label else ""
        cell = memo[key] = Markup(f"{parts[0]}{data_label}{parts[1]}")
    return cell


def _result_cell(val: Value, counts: bool, tag: bool, brief: bool) -> tuple[str, str]:
    """The cell's HTML before and after where its column label goes."""
    if not val.published:
        return '<td class="num value status-cell" data-sort="-1"', f">{html.escape(val.status_short)}</td>"
    head = f'<td class="num value" data-sort="{val.sort_key:g}"'
    # Numbers and fixed words only below: nothing to escape.
    parts = [val.main]
    if val.adjusted and tag:
        parts.append(' <span class="tag">adjusted</span>')
    if brief:
        return head, f'>{"".join(parts)}</td>'
    if val.ci:
        parts.append(f'<span class="sub">{val.ci}</span>')
    if val.adjusted:
        parts.append(f'<span class="sub">crude {val.crude}</span>')
    if counts and val.counts:
        parts.append(f'<span class="sub">{val.counts}</span>')
    if val.median_days:
        parts.append(f'<span class="sub">median {val.median_days}</span>')
    return head, f'>{"".join(parts)}</td>'


def change_cell(val: Value, label: str = "") -> Markup:
    """The change since the previous financial year, and whether it is significant."""
    memo = val.__dict__.setdefault("_cells", {})
    key = ("change", label)
    if key not in memo:
        memo[key] = Markup(_change_cell(val, label))
    return memo[key]


def _change_cell(val: Value, label: str) -> str:
    data_label = f' data-label="{html.escape(label)}"' if label else ""
    if not val.change:
        return f'<td class="num change muted" data-sort="-1000"{data_label}>—</td>'

    significant = {"yes": "significant", "no": "not significant"}.get(val.change_significant, "")
    before = f" ({val.previous} before)" if val.previous else ""
    if val.adjusted:
        before += "; crude rates"  # the hub's change is between crude rates, not adjusted ones
    cls = " sig" if val.change_significant == "yes" else ""
    return (f'<td class="num change{cls}" data-sort="{float(val.get("change_points")):g}"{data_label}>{val.change}'
            f'<span class="sub">{significant}{before}</span></td>')


def comparator_cell(val: Value, label: str = "") -> Markup:
    """The comparator's value and how this result compares with it."""
    memo = val.__dict__.setdefault("_cells", {})
    key = ("comparator", label)
    if key not in memo:
        memo[key] = _comparator_cell(val, label)
    return memo[key]


def _comparator_cell(val: Value, label: str) -> Markup:
    data_label = f' data-label="{escape(label)}"' if label else ""
    order = JUDGEMENT_ORDER.index(val.vs_comparator) if val.vs_comparator in JUDGEMENT_ORDER else len(JUDGEMENT_ORDER)
    if not val.comparator_name:
        return Markup(f'<td class="comparator muted" data-sort="{order}"{data_label}>—'
                      '<span class="visually-hidden">no comparator</span></td>')
    value = f'<span class="sub">{escape(val.comparator_name)}: {val.comparator_value}</span>' if val.comparator_value else ""
    return Markup(f'<td class="comparator" data-sort="{order}"{data_label}>'
                  f'{judgement(val.vs_comparator, val.comparator_name)}{value}</td>')


@lru_cache(maxsize=256)
def term_link(root: str, slug: str, text: str) -> Markup:
    """A term linked to its explanation on the help page."""
    return Markup(f'<a class="term" href="{root}help.html#{escape(slug)}">{escape(text)}</a>')


def rows_html(rows: list[tuple[Any, ...]], numeric: frozenset[int] = frozenset({1, 2, 3, 4})) -> Markup:
    """Table body rows, the first cell a row header; Markup cells are kept, text is escaped."""
    out = []
    for cells in rows:
        text = [c if isinstance(c, Markup) else html.escape(str(c), quote=False) for c in cells]
        tds = "".join(c if c.startswith("<td") else (f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>")
                      for i, c in enumerate(text) if i)
        out.append(f'<tr><th scope="row">{text[0]}</th>{tds}</tr>')
    return Markup("\n".join(out))
