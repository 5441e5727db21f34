"""Page 1 of a pack: where the organisation stands in the outlier process, against the funnel limits, and in data completeness."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from naome_report.outlier_process import OutlierProcess, Stage
from naome_report.publish.packs import formatting as fmt
from naome_report.publish.packs.data import PackInput
from naome_report.publish.packs.severity import ALL, Finding, findings
from naome_report.registry import Indicator, Registry


@dataclass
class ProcessRow:
    """One result of an indicator in the HQIP outlier process."""

    title: str
    subgroup: str
    value: str
    symbol: str
    status: str
    meaning: str
    next_step: str
    level: str


@dataclass
class PositionLine:
    """A result beyond the funnel limits, shown for local quality improvement."""

    symbol: str
    title: str
    subgroup: str
    value: str
    national: str
    label: str
    favourable: bool

    @property
    def words(self) -> str:
        """The position without its judgement ('Above 95% limit'), for the list of favourable results."""
        return self.label.split(":")[0]


@dataclass
class CompletenessLine:
    """A data item recorded for fewer patients than the threshold."""

    title: str
    value: str


@dataclass
class Standing:
    """Everything page 1 says."""

    in_process: list[str]
    process_rows: list[ProcessRow]
    stages: tuple[Stage, ...]
    guidance: OutlierProcess
    positions: list[PositionLine]
    low_items: list[CompletenessLine]
    flagged: list[dict[str, str]] = field(default_factory=list)

    @property
    def to_improve(self) -> list[PositionLine]:
        return [p for p in self.positions if not p.favourable]

    @property
    def better(self) -> list[PositionLine]:
        return [p for p in self.positions if p.favourable]

    @property
    def alarm_process_applies(self) -> bool:
        return any(r.level == "alarm" for r in self.process_rows)


def value_text(row: dict[str, Any], ind: Indicator, nation: str) -> str:
    """The value a position is judged on: the case-mix adjusted percentage for adjusted outcomes."""
    if row.get("status") != "published":
        return fmt.missing_text(str(row.get("status") or "not_available"), nation)
    if ind.is_casemix_adjusted and not fmt.is_blank(row.get("adjusted_percentage")):
        return f"{fmt.pct(row['adjusted_percentage'])} case-mix adjusted"
    return fmt.pct(row.get("percentage"))


def _level_words(finding_level: str, favourable: bool) -> str:
    """Which wording of the guidance a process result takes."""
    if favourable and finding_level in ("alarm", "alert"):
        return "favourable"
    return finding_level if finding_level in ("alarm", "alert") else "within"


def _process_row(ind: Indicator, row: dict[str, Any], subgroup: str, nation: str,
                 process: OutlierProcess) -> ProcessRow:
    position = fmt.position_of(row)
    if position.level == "not_assessed":
        meaning, next_step, level = position.label + ".", process.next_steps["within"], "not_assessed"
    else:
        level = _level_words(position.level, position.favourable)
        meaning, next_step = process.meaning[level], process.next_steps[level]
    return ProcessRow(ind.title, subgroup, value_text(row, ind, nation), position.symbol, position.label, meaning,
                      next_step, level)


def _process_rows(pack: PackInput, registry: Registry, process: OutlierProcess,
                  ordered: list[Finding]) -> list[ProcessRow]:
    """Alarms and alerts first (subgroups included), then every other indicator of the process, all patients."""
    rows: list[ProcessRow] = []
    shown = set()
    for f in ordered:
        if f.position.in_process and f.kind in ("alarm", "alert", "better"):
            rows.append(_process_row(registry.get(f.indicator_id), f.row, f.subgroup_label, pack.org.nation, process))
            shown.add((f.indicator_id, f.subgroup))
    for ind in registry:
        row = pack.rows.get(ind.id)
        if row and fmt.position_of(row).in_process and (ind.id, ALL) not in shown:
            rows.append(_process_row(ind, row, "", pack.org.nation, process))
    return rows


def _positions(pack: PackInput, registry: Registry, ordered: list[Finding]) -> list[PositionLine]:
    """Results outside the process beyond the funnel limits, most severe first."""
    lines = []
    for f in ordered:
        if f.position.in_process or f.kind not in ("beyond_998", "beyond_95", "better"):
            continue
        ind = registry.get(f.indicator_id)
        national = f.row.get("national_percentage")
        lines.append(PositionLine(f.position.symbol, ind.title, f.subgroup_label,
                                  value_text(f.row, ind, pack.org.nation), fmt.pct(national), f.position.label,
                                  f.kind == "better"))
    return lines


def _low_items(pack: PackInput) -> list[CompletenessLine]:
    """Data items recorded below the threshold, named with their completeness."""
    out = []
    for item in pack.completeness_items:
        if fmt.text(item.get("below_threshold")).lower() == "yes":
            threshold = f"{float(item['threshold']):.0f}%" if not fmt.is_blank(item.get("threshold")) else ""
            out.append(CompletenessLine(fmt.text(item.get("item_title")) or fmt.text(item.get("item")),
                                        f"{fmt.pct(item.get('percentage'))} recorded"
                                        + (f" (threshold {threshold})" if threshold else "")))
    return out


def standing(pack: PackInput, registry: Registry, process: OutlierProcess) -> Standing:
    """Page 1 for one organisation: its results in the process, the alarm stages as they read in its nation, and more."""
    process = process.for_nation(pack.org.nation)
    ordered = findings(pack.rows, pack.subgroup_rows, registry)
    in_process = [ind.title for ind in registry if pack.rows.get(ind.id) and fmt.position_of(pack.rows[ind.id]).in_process]
    flagged = [{"title": registry.get(f.indicator_id).title, "flag": fmt.text(f.row.get("completeness_flag")),
                "adjusted": registry.get(f.indicator_id).is_casemix_adjusted}
               for f in ordered if f.kind == "completeness"]
    return Standing(in_process, _process_rows(pack, registry, process, ordered), process.stages_of("alarm"), process,
                    _positions(pack, registry, ordered), _low_items(pack), flagged)
