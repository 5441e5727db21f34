"""The State of the Nation report's key messages: numbered sentences written from the results, never typed.

Each message states its figures and what they are compared with; which indicator a message picks (the
widest variation, the lowest value) is read off the published values, so the words follow the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from naome_report.hub import Results
from naome_report.publish.documents.formatting import fmt
from naome_report.registry import Indicator, Registry, in_sentence
from naome_report.vocabulary import CHARACTERISTIC, COMPARISON

# How each goal's message opens (the goal titles are long; these say the same in a few words).
GOAL_LEADS = {
    1: "Care pathway",
    2: "Systemic anti-cancer treatment",
    3: "Palliative treatment",
    4: "Nursing support",
    5: "Outcomes",
}


@dataclass(frozen=True)
class KeyMessage:
    """One numbered key message: a short lead and its sentences."""

    number: int
    lead: str
    text: str


class _Values:
    """Published national, nation and alliance values of the headline period, looked up by indicator."""

    def __init__(self, results: Results) -> None:
        d = results.indicators
        d = d[(d.period == results.primary_period) & (d.subgroup == "all")]
        published = d[d.status.eq("published") & d.percentage.notna()]
        nat = published[published.level.isin(["national", "nation"])]
        self.nation = {(r.indicator_id, r.nation): float(r.percentage) for r in nat.itertuples()}
        self.versus = {(r.indicator_id, r.nation): r.vs_national for r in nat.itertuples()}
        self.alliances = published[published.level == "alliance"]
        self.organisations = d[d.level == "organisation"]

    def pct(self, indicator: str, nation: str = "England and Wales") -> str:
        return fmt(self.nation.get((indicator, nation)))

    def has(self, ind: Indicator) -> bool:
        """A published national value: England and Wales, or the one nation the indicator covers."""
        return (ind.id, ind.coverage) in self.nation

    def national(self, ind: Indicator) -> float:
        return self.nation[(ind.id, ind.coverage)]

    def nations(self, ind: Indicator) -> str:
        """'59.1% (England 59.8%, Wales 47.2%)', without the nations that have no published value; '87.9%
        (England only)' for an indicator of one nation."""
        if ind.coverage != "England and Wales":
            return f"{self.pct(ind.id, ind.coverage)} ({ind.coverage} only)"
        parts = [f"{n} {self.pct(ind.id, n)}" for n in ("England", "Wales") if (ind.id, n) in self.nation]
        return self.pct(ind.id) + (f" ({', '.join(parts)})" if parts else "")

    def alliance_range(self, indicator: str) -> tuple[float, pd.Series, pd.Series] | None:
        """The spread between Cancer Alliances and Welsh regions: (width, lowest row, highest row)."""
        rows = self.alliances[self.alliances.indicator_id == indicator].sort_values(["percentage", "org_name"])
        if len(rows) < 2:
            return None
        low, high = rows.iloc[0], rows.iloc[-1]
        return float(high.percentage - low.percentage), low, high

    def organisations_at(self, indicator: str, position: str) -> int:
        rows = self.organisations[self.organisations.indicator_id == indicator]
        return int(rows.funnel_position.eq(position).sum())


def key_messages(results: Results, registry: Registry) -> list[KeyMessage]:
    """The key messages of the headline period, numbered from 1."""
    values = _Values(results)
    rated = [i for i in registry if i.has_rate and values.has(i)]
    texts: list[tuple[str, str]] = [("Who was in the audit", _cohort(results))]
    completeness = [i for i in rated if i.type == "completeness"]
    if completeness:
        texts.append(("Data completeness", _completeness(completeness, values)))
    for goal in range(1, 5):
        inds = [i for i in rated if i.goal == goal and i.type != "completeness"]
        if inds:
            texts.append((GOAL_LEADS[goal], _goal(inds, values)))
    outcomes = [i for i in rated if i.goal == 5]
    if outcomes:
        texts.append((GOAL_LEADS[5], _outcomes(outcomes, values)))
    change = _change(results, registry)
    if change:
        texts.append(("Change since the year before", change))
    groups = _groups(results, registry)
    if groups:
        texts.append(("Differences between groups of patients", groups))
    survival = _survival(results)
    if survival:
        texts.append(("Survival", survival))
    return [KeyMessage(n, lead, text) for n, (lead, text) in enumerate(texts, start=1)]


def _cohort(results: Results) -> str:
    c = results.cohort_summary
    route = c[(c.nation == "England and Wales") & (c.characteristic == "route") & (c.status == "published")]
    by = {str(r.category): r for r in route.itertuples()}
    total = fmt(route.patients.sum(), "count")
    years = results.meta.get("financial_years", [])
    span = f" diagnosed in the financial years {years[0]} to {years[-1]}" if years else ""
    parts = []
    if "de_novo" in by:
        parts.append(f"{fmt(by['de_novo'].patients, 'count')} ({fmt(by['de_novo'].percentage)}) had de novo MBC, "
                     "metastatic when their breast cancer was first found")
    if "recurrent" in by:
        parts.append(f"{fmt(by['recurrent'].patients, 'count')} ({fmt(by['recurrent'].percentage)}) had recurrent MBC, "
                     "after an earlier breast cancer")
    return f"The audit includes {total} people in England and Wales with metastatic breast cancer (MBC){span}: " \
           + ", and ".join(parts) + "."


def _completeness(inds: list[Indicator], values: _Values) -> str:
    ranked = sorted(inds, key=values.national)
    items = [f"{i.title_in_sentence} {values.nations(i)}" for i in ranked]
    text = "Key data items were often not recorded, so some results rest on incomplete data: " + "; ".join(items) + "."
    text += _wales(ranked, values)
    return text


def _wales(inds: list[Indicator], values: _Values) -> str:
    """Where Wales differs from England and Wales as a whole beyond chance (its 95% CI excludes the national value)."""
    parts = []
    for code in ("worse", "better", "lower", "higher"):
        named = [f"*{i.title}*" for i in inds if values.versus.get((i.id, "Wales")) == code]
        if named:
            parts.append(f"{_and(named)} {'was' if len(named) == 1 else 'were'} {COMPARISON[code].long} in England and "
                         "Wales as a whole")
    return f" In Wales, {'; '.join(parts)}." if parts else ""


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _values_sentence(inds: list[Indicator], values: _Values) -> str:
    """'Title: 59.1% (England 59.8%, Wales 47.2%); ...' and how Wales differs from the whole."""
    text = "; ".join(f"{i.title_in_sentence}: {values.nations(i)}" for i in inds)
    return text[0].upper() + text[1:] + "." + _wales(inds, values)


def _goal(inds: list[Indicator], values: _Values) -> str:
    text = _values_sentence(inds, values)
    spreads = [(r, i) for i in inds if (r := values.alliance_range(i.id)) is not None]
    if spreads:
        (_, low, high), ind = max(spreads, key=lambda item: item[0][0])
        text += (f" Variation between Cancer Alliances and Welsh regions was widest for *{ind.title}*: "
                 f"from {fmt(low.percentage)} ({low.org_name}) to {fmt(high.percentage)} ({high.org_name}).")
    return text


def _outcomes(inds: list[Indicator], values: _Values) -> str:
    text = _values_sentence(inds, values)
    above = [f"{_organisations(n)} for {i.title_in_sentence}" for i in inds if i.is_casemix_adjusted
             and (n := values.organisations_at(i.id, "above_998"))]
    if above:  # no colon before a count: it would read as a label of a small count of people
        text += " After case-mix adjustment, the upper 99.8% funnel limit is exceeded by " + " and by ".join(above) + "."
    return text


def _organisations(count: int) -> str:
    """'1 organisation' or '3 organisations'."""
    return f"{fmt(count, 'count')} organisation{'' if count == 1 else 's'}"


def _change(results: Results, registry: Registry) -> str:
    """National changes between the last two financial years that are beyond chance, or that there were none."""
    years = results.meta.get("financial_years", [])
    if len(years) < 2:
        return ""
    d = results.indicators
    d = d[(d.level == "national") & (d.period == years[-1]) & (d.subgroup == "all") & d.change_significant.notna()]
    moved = d[d.change_significant == "yes"]
    lead = f"Between {years[-2]} and {years[-1]}, "
    if d.empty:
        return ""
    if moved.empty:
        return lead + f"no indicator changed by more than chance in England and Wales as a whole ({len(d)} compared)."
    parts = [f"{registry.get(r.indicator_id).title_in_sentence} {'rose' if r.change_points > 0 else 'fell'} from "
             f"{fmt(r.previous_percentage)} to {fmt(r.percentage)} ({fmt(r.change_points, 'points')} points)"
             for r in moved.itertuples()]
    return (lead + f"{len(moved)} of {len(d)} indicators changed by more than chance in England and Wales as a "
            "whole: " + "; ".join(parts) + ".")


def _groups(results: Results, registry: Registry) -> str:
    """How often differences between groups of patients were beyond chance nationally, and by what."""
    b = results.breakdowns
    tests = b[(b.nation == "England and Wales") & (b.test_status == "tested")].drop_duplicates(
        ["indicator_id", "characteristic"])
    if tests.empty:
        return ""
    beyond = tests[tests.beyond_chance == "yes"]
    indicators = beyond.indicator_id.nunique()
    text = (f"In England and Wales as a whole, {len(beyond)} of {len(tests)} comparisons between groups of patients "
            f"showed differences beyond chance, for {indicators} of {tests.indicator_id.nunique()} indicators")
    if beyond.empty:
        return text + "."
    by = beyond.characteristic.value_counts()
    most = [f"{in_sentence(CHARACTERISTIC[key].short)} ({count} indicator{'' if count == 1 else 's'})"
            for key, count in by.items()][:3]
    return text + f", most often by {_and(most)}. Each is shown in the section on differences between groups of patients."


def _survival(results: Results) -> str:
    s = results.survival
    s = s[(s.level == "national") & (s.period == results.primary_period) & (s.status == "published")]
    if s.empty:
        return ""
    at = {(r.group, r.time_years): r for r in s.itertuples()}
    parts = []
    for group in s[s.group_type == "route"].group.drop_duplicates():
        if (group, 1) in at and (group, 3) in at:
            parts.append(f"{fmt(at[group, 1].survival_percentage)} of people with {group.lower()} MBC were alive "
                         f"1 year after diagnosis and {fmt(at[group, 3].survival_percentage)} after 3 years")
    text = "; ".join(parts)
    text = (text[0].upper() + text[1:] + ".") if text else ""
    subtypes = s[(s.group_type == "subtype") & (s.time_years == 1) & (s.group != "Unknown")]
    if len(subtypes):
        worst = subtypes.sort_values("survival_percentage").iloc[0]
        text += (f" Survival was lowest for {worst.group.lower()} breast cancer: {fmt(worst.survival_percentage)} "
                 "at 1 year.")
    overall = s[(s.group_type == "all") & (s.time_years == 3)]
    if len(overall):
        row = overall.iloc[0]
        text += (f" Only {fmt(row.at_risk, 'count')} of the {fmt(row.patients, 'count')} people were still being "
                 "followed 3 years after diagnosis (the others had died or were diagnosed too recently), so the 3-year "
                 "figures are less certain than the 1-year figures.")
    return text.strip()
