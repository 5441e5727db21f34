"""How much a result needs the MDT's attention: one order for page 1 and the action plan, from the hub's codes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from naome_report.publish.packs.formatting import Position, is_flagged, position_of
from naome_report.registry import Registry
from naome_report.vocabulary import SUBGROUP

ALL = "all"
# Most urgent first. An alarm or alert in the HQIP outlier process, then positions beyond the funnel limits
# (99.8% before 95%), then results that rest on incomplete data, then results better than expected.
SEVERITY = ("alarm", "alert", "beyond_998", "beyond_95", "completeness", "better")


@dataclass(frozen=True)
class Finding:
    """One result that needs attention, with its place in the order."""

    indicator_id: str
    subgroup: str
    kind: str  # one of SEVERITY
    position: Position
    row: dict[str, Any]

    @property
    def subgroup_label(self) -> str:
        """'' for all patients, else the subgroup's short name ('De novo')."""
        return "" if self.subgroup == ALL else SUBGROUP[self.subgroup].short if self.subgroup in SUBGROUP else self.subgroup


def kind_of(position: Position) -> str | None:
    """The severity of a position, or None when it needs no action (within limits, not assessed)."""
    if position.level in ("within", "not_assessed"):
        return None
    if position.favourable:
        return "better"
    return position.level


def _key(finding: Finding, order: dict[str, int]) -> tuple:
    """Severity, then unfavourable before no-preferred-direction, all patients before subgroups, registry order."""
    neutral = finding.position.judgement in ("higher", "lower")
    return (SEVERITY.index(finding.kind), neutral, finding.subgroup != ALL, order.get(finding.indicator_id, 999),
            finding.subgroup)


def findings(rows: dict[str, dict[str, Any]], subgroup_rows: dict[str, dict[str, dict[str, Any]]],
             registry: Registry) -> list[Finding]:
    """Every result needing attention, all patients and subgroups, most severe first.

    A result beyond the limits is one finding; one whose data completeness is flagged is another (the
    review differs: care, or data).
    """
    order = {ind.id: i for i, ind in enumerate(registry)}
    found = []
    for row in _every_row(rows, subgroup_rows):
        indicator, subgroup = row["indicator_id"], row.get("subgroup") or ALL
        position = position_of(row)
        kind = kind_of(position)
        if kind:
            found.append(Finding(indicator, subgroup, kind, position, row))
        if subgroup == ALL and is_flagged(row.get("completeness_flag")):
            found.append(Finding(indicator, subgroup, "completeness", position, row))
    return sorted(found, key=lambda f: _key(f, order))


def _every_row(rows: dict[str, dict[str, Any]],
               subgroup_rows: dict[str, dict[str, dict[str, Any]]]) -> Iterable[dict[str, Any]]:
    yield from rows.values()
    for by_subgroup in subgroup_rows.values():
        yield from by_subgroup.values()
