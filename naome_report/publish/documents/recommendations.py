"""Recommendations of the State of the Nation report: an analyst's file, every figure filled from the results.

`reports/recommendations.yaml` holds the words; a reference in braces, such as `{mdt: Wales}`, is replaced
by the published result it names. A reference to a result that does not exist (or is not published) stops
the build with a message naming the file, the recommendation and the reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from naome_report.hub import Results
from naome_report.publish.documents.formatting import NATIONS, fmt
from naome_report.registry import GOAL_TITLES
from naome_report.vocabulary import AUDIENCE, SUBGROUP

KINDS = {"data_quality": "Data quality", "clinical": "Clinical care"}
FIELDS = ("title", "goal", "audiences", "action", "evidence")
REFERENCE = re.compile(r"\{([^{}]*)\}")
# Organisations counted by funnel position: which positions each phrase covers.
POSITIONS = {
    "above 99.8% limit": ("above_998",),
    "below 99.8% limit": ("below_998",),
    "beyond 99.8% limits": ("above_998", "below_998"),
    "above 95% limit": ("above_998", "above_95"),
    "below 95% limit": ("below_998", "below_95"),
    "beyond 95% limits": ("above_998", "below_998", "above_95", "below_95"),
}
ALLIANCE_RANGE = "alliance range"


class RecommendationError(ValueError):
    """A recommendation that cannot be published: a malformed entry or a reference to a result that does not exist."""


@dataclass(frozen=True)
class Recommendation:
    """One numbered recommendation, its references filled."""

    number: int
    kind: str
    title: str
    goal: int
    goal_title: str
    audiences: tuple[str, ...]
    action: str
    evidence: str
    cites: str  # the indicator whose result motivates it: the report links to that indicator's table


class ResultReferences:
    """Fills `{indicator[/subgroup]: selector[, period]}` from the indicator results of one run."""

    def __init__(self, results: Results) -> None:
        self.rows = results.indicators
        self.period = results.primary_period
        self.periods = set(self.rows.period.astype(str))
        self.indicators = set(self.rows.indicator_id)

    def fill(self, reference: str) -> tuple[str, str]:
        """The text a reference stands for and the indicator it cites; a RecommendationError names what is wrong."""
        target, _, rest = reference.partition(":")
        indicator, _, subgroup = target.strip().partition("/")
        indicator, subgroup = indicator.strip(), subgroup.strip() or "all"
        selector, _, period = (part.strip() for part in rest.partition(","))
        period = period or self.period
        if not rest.strip():
            raise RecommendationError("a reference needs an indicator and what to show, e.g. {mdt: Wales}")
        if indicator not in self.indicators:
            raise RecommendationError(f"no indicator '{indicator}' in naome_indicators.csv")
        if subgroup != "all" and subgroup not in SUBGROUP:
            raise RecommendationError(f"no subgroup '{subgroup}'; subgroups are {', '.join(SUBGROUP)}")
        if period not in self.periods:
            raise RecommendationError(f"no period '{period}' in naome_indicators.csv")
        rows = self.rows[(self.rows.indicator_id == indicator) & (self.rows.subgroup == subgroup)
                         & (self.rows.period == period)]
        where = f"{indicator}{'' if subgroup == 'all' else '/' + subgroup} in {period}"
        if selector in NATIONS:
            return self._nation(rows, selector, where), indicator
        if selector == ALLIANCE_RANGE:
            return self._alliance_range(rows, where), indicator
        if selector in POSITIONS:
            return self._organisations(rows, POSITIONS[selector], where), indicator
        known = [*NATIONS, ALLIANCE_RANGE, *POSITIONS]
        raise RecommendationError(f"'{selector}' is not something a reference can show; use one of {', '.join(known)}")

    @staticmethod
    def _nation(rows: pd.DataFrame, nation: str, where: str) -> str:
        hit = rows[rows.level.isin(["national", "nation"]) & (rows.nation == nation)]
        if hit.empty:
            raise RecommendationError(f"no result for {nation}: {where}")
        row = hit.iloc[0]
        if row.status != "published" or pd.isna(row.percentage):
            raise RecommendationError(f"the result for {nation} ({where}) is not published ({row.status})")
        return fmt(row.percentage)

    @staticmethod
    def _alliance_range(rows: pd.DataFrame, where: str) -> str:
        shown = rows[(rows.level == "alliance") & (rows.status == "published")].dropna(subset=["percentage"])
        if len(shown) < 2:
            raise RecommendationError(f"fewer than two published Cancer Alliance or Welsh region results: {where}")
        shown = shown.sort_values(["percentage", "org_name"])
        low, high = shown.iloc[0], shown.iloc[-1]
        return f"{fmt(low.percentage)} ({low.org_name}) to {fmt(high.percentage)} ({high.org_name})"

    @staticmethod
    def _organisations(rows: pd.DataFrame, positions: tuple[str, ...], where: str) -> str:
        orgs = rows[rows.level == "organisation"]
        if orgs.empty:
            raise RecommendationError(f"no organisation results: {where}")
        count = int(orgs.funnel_position.isin(positions).sum())
        return f"{fmt(count, 'count')} organisation{'' if count == 1 else 's'}"


def load_recommendations(path: Path, results: Results) -> list[Recommendation]:
    """The recommendations of `path`, numbered, data quality first, every reference filled from `results`."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RecommendationError(f"{path}: cannot be read as YAML ({exc})") from exc
    if not isinstance(raw, dict) or set(raw) - set(KINDS):
        found = ", ".join(sorted(map(str, raw))) if isinstance(raw, dict) else type(raw).__name__
        raise RecommendationError(f"{path}: the top level holds {' and '.join(KINDS)} lists only, not {found}")
    references = ResultReferences(results)
    out: list[Recommendation] = []
    for kind in KINDS:
        for entry in raw.get(kind) or []:
            out.append(_recommendation(entry, len(out) + 1, kind, references, path))
    return out


def _recommendation(entry: Any, number: int, kind: str, references: ResultReferences, path: Path) -> Recommendation:
    """One entry checked and filled; errors name the file and the recommendation."""
    name = f"{path}: recommendation {number}"
    if not isinstance(entry, dict):
        raise RecommendationError(f"{name}: expected the fields {', '.join(FIELDS)}")
    name += f" ('{entry.get('title', '')}')"
    missing, extra = [f for f in FIELDS if not entry.get(f)], sorted(set(entry) - set(FIELDS))
    if missing or extra:
        raise RecommendationError(f"{name}: " + "; ".join(
            ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unknown {', '.join(extra)}"] if extra else [])))
    audiences = list(entry["audiences"]) if isinstance(entry["audiences"], list) else [entry["audiences"]]
    unknown = [a for a in audiences if a not in AUDIENCE]
    if unknown:
        raise RecommendationError(f"{name}: unknown audience {', '.join(map(str, unknown))}; "
                                  f"audiences are {', '.join(AUDIENCE)}")
    goal = entry["goal"]
    if goal not in GOAL_TITLES or goal == 0:
        raise RecommendationError(f"{name}: goal must be a quality-improvement goal from 1 to 5, not {goal!r}")
    cited: list[str] = []

    def fill(match: re.Match[str]) -> str:
        try:
            text, indicator = references.fill(match.group(1))
        except RecommendationError as exc:
            raise RecommendationError(f"{name} cites {match.group(0)}: {exc}") from None
        cited.append(indicator)
        return text

    evidence = REFERENCE.sub(fill, " ".join(str(entry["evidence"]).split()))
    if not cited:
        raise RecommendationError(f"{name}: its evidence cites no result; name one in braces, e.g. {{mdt: Wales}}")
    return Recommendation(number=number, kind=KINDS[kind], title=str(entry["title"]).strip(), goal=goal,
                          goal_title=GOAL_TITLES[goal], audiences=tuple(AUDIENCE[a].short for a in audiences),
                          action=" ".join(str(entry["action"]).split()), evidence=evidence, cites=cited[0])
