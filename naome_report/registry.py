"""Loads data/indicators.yaml into typed indicator definitions: the single source of truth."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Any

import yaml

from naome_report.config import PROJECT_ROOT, Config, default_config
from naome_report.ingest.contract import RT_INTENT
from naome_report.rules import CohortRules, drug_words, join_words, rules_from_config, window_words

DEFAULT_REGISTRY = PROJECT_ROOT / "data" / "indicators.yaml"
TYPES = {"process", "outcome", "completeness", "timeliness", "experience", "data_quality"}
DIRECTIONS = {"higher_better", "lower_better", "neutral"}
NUMERATOR_KINDS = {"event_within", "flag", "death_after_last_sact", "days_to_event", "org_aggregate", "count"}
ALLOCATIONS = {"diagnosing_org", "last_sact_org", "survey_trust"}
COUNTED = {"patients", "respondents"}
SUBGROUPS = {"de_novo", "recurrent", "triple_negative", "bone_metastases"}
OVERDISPERSION = {"none", "multiplicative", "additive", "auto"}
GOAL_TITLES = {
    0: "Data quality",
    1: "Improve how patients move through the care pathway",
    2: "Reduce unwarranted variation in access to, and timeliness of, systemic anti-cancer treatment",
    3: "Reduce unwarranted variation in access to, and timeliness of, palliative treatments",
    4: "Improve access to nursing support",
    5: "Improve outcomes for people with MBC and reduce their variation",
}
DIRECTION_TEXT = {"higher_better": "Higher is better", "lower_better": "Lower is better", "neutral": "No preferred direction"}


class RegistryError(Exception):
    """An indicator definition that cannot be used."""


@dataclass(frozen=True)
class Unavailability:
    """A nation and financial years for which an indicator's data do not exist."""

    nation: str
    financial_years: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Indicator:
    """One indicator, as defined in the registry."""

    id: str
    title: str
    plain_title: str
    goal: int
    type: str
    direction: str
    denominator_text: str
    denominator: dict[str, Any]
    numerator_text: str
    numerator: dict[str, Any]
    exclusions: str
    window: str
    source: str
    nations: tuple[str, ...]
    not_available: tuple[Unavailability, ...]
    allocation: str
    outlier_process: bool
    overdispersion: str | None
    run_chart: bool
    subgroups: tuple[str, ...]
    suppression: dict[str, int]
    casemix: dict[str, Any] | None
    completeness_from: str | None
    evidence: str
    counted: str  # what numerator and denominator count: patients, or survey respondents
    definitions_version: str

    @property
    def title_in_sentence(self) -> str:
        """The title as it reads mid-sentence: first letter lower case, acronyms (ER, CDK4/6, MDT) kept."""
        return in_sentence(self.title)

    @property
    def goal_title(self) -> str:
        return GOAL_TITLES.get(self.goal, "")

    @property
    def direction_text(self) -> str:
        return DIRECTION_TEXT[self.direction]

    @property
    def coverage(self) -> str:
        """The nations the indicator covers, as its national value is labelled: 'England and Wales' or 'England'."""
        return " and ".join(self.nations)

    @property
    def is_casemix_adjusted(self) -> bool:
        return bool(self.casemix)

    @property
    def has_rate(self) -> bool:
        """False for pure counts (no denominator, no percentage)."""
        return self.numerator["kind"] != "count"

    @property
    def has_funnel(self) -> bool:
        """Every indicator with a rate is placed on a funnel plot; only outlier_process ones are alerts or alarms."""
        return self.has_rate

    def unavailable_years(self, nation: str) -> tuple[str, ...]:
        """Financial years for which this indicator has no data in a nation."""
        return tuple(y for u in self.not_available if u.nation == nation for y in u.financial_years)


@dataclass(frozen=True)
class Registry:
    """Every indicator, in report order, with the survival definition."""

    indicators: tuple[Indicator, ...]
    survival: dict[str, Any]
    definitions_version: str
    source: Path = field(default=DEFAULT_REGISTRY)

    def __iter__(self):
        return iter(self.indicators)

    def __len__(self) -> int:
        return len(self.indicators)

    def get(self, indicator_id: str) -> Indicator:
        """The indicator with this id."""
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(f"no indicator '{indicator_id}' in {self.source}")

    def by_goal(self) -> dict[int, list[Indicator]]:
        """Indicators grouped by QI goal, in goal order."""
        out: dict[int, list[Indicator]] = {}
        for ind in sorted(self.indicators, key=lambda i: i.goal):
            out.setdefault(ind.goal, []).append(ind)
        return out


def _check(condition: bool, source: Path, ind_id: str, message: str) -> None:
    if not condition:
        raise RegistryError(f"{source}: indicator '{ind_id}': {message}")


# Texts of an entry that may name a rule of the configuration as ${name} (see rule_phrases).
TEMPLATED = ("title", "plain_title", "denominator_text", "numerator_text", "exclusions", "window")


def rule_phrases(rules: CohortRules, config: Config) -> dict[str, str]:
    """The words of every configured rule an indicator text may use as ${name}."""
    cutoff = config.data_cutoff
    return {
        "first_treatment": window_words(rules.first_treatment_days),
        "first_treatment_short": window_words(rules.first_treatment_days, "diagnosis", short=True),
        "ps_window": window_words(rules.performance_status_days),
        "ps_values": join_words(rules.performance_status_values),
        "sites_window": window_words(rules.metastatic_sites_days),
        "not_anti_cancer": drug_words(rules.not_anti_cancer),
        "cutoff": f"{cutoff.day} {cutoff:%B %Y}",
        "cpes_months": rules.cpes_sample_months,
        "min_age": str(rules.min_age), "max_age": str(rules.max_age),
    }


def _indicator_phrases(rule: dict[str, Any], rules: CohortRules) -> dict[str, str]:
    """Words of an indicator's own numerator rule: its window, drugs, codes and days."""
    out: dict[str, str] = {}
    if "window_days" in rule:
        window = tuple(rule["window_days"])
        out["window"] = window_words(window)
        out["within"] = window_words(window, "diagnosis", short=True)
    if rule.get("drug_group"):
        out["drugs"] = drug_words(rules.code_list(rule["drug_group"]))
    for column, name in (rule.get("where_code_list") or {}).items():
        codes = rules.code_list(name)
        out["codes"] = join_words([f"{c} ({RT_INTENT[c].lower()})" if column == "intent" and c in RT_INTENT else c
                                   for c in codes])
    for key in ("days", "within_days"):
        if key in rule:
            out[key] = str(rule[key])
    return out


def _fill(text: Any, phrases: dict[str, str], source: Path, ind_id: str, name: str) -> str:
    try:
        return Template(str(text)).substitute(phrases)
    except KeyError as exc:
        raise RegistryError(f"{source}: indicator '{ind_id}': {name} names ${{{exc.args[0]}}}, which is not a rule; "
                            f"known: {', '.join(sorted(phrases))}") from None
    except ValueError as exc:
        raise RegistryError(f"{source}: indicator '{ind_id}': {name}: {exc} (write $$ for a dollar sign)") from None


def _check_rules(rule: dict[str, Any], rules: CohortRules, source: Path, ind_id: str, allocation: str) -> None:
    """The code lists a numerator names exist in the configuration."""
    wanted = [rule["drug_group"]] if rule.get("drug_group") else []
    wanted += list((rule.get("where_code_list") or {}).values())
    unknown = [w for w in wanted if w not in rules.code_list_names]
    _check(not unknown, source, ind_id, f"code list(s) {unknown} are not in [code_lists] of the configuration; "
                                        f"known: {', '.join(sorted(rules.code_list_names))}")
    _check("drugs_any" not in rule, source, ind_id, "drugs_any is replaced by drug_group (a [code_lists.sact_regimen_groups] name)")
    _check((allocation == "survey_trust") == (rule.get("kind") == "org_aggregate"), source, ind_id,
           "allocation survey_trust is for organisation aggregates (kind org_aggregate) only, and they need it")


def _build(entry: dict[str, Any], defaults: dict[str, Any], version: str, source: Path, rules: CohortRules,
           phrases: dict[str, str]) -> Indicator:
    merged = {**defaults, **entry}
    ind_id = str(merged.get("id", "?"))
    known = set(Indicator.__dataclass_fields__) - {"definitions_version"}
    unknown = set(merged) - known
    _check(not unknown, source, ind_id, f"unknown field(s) {sorted(unknown)}")
    missing = known - set(merged)
    _check(not missing, source, ind_id, f"missing field(s) {sorted(missing)}")
    _check(merged["type"] in TYPES, source, ind_id, f"type must be one of {sorted(TYPES)}")
    _check(merged["direction"] in DIRECTIONS, source, ind_id, f"direction must be one of {sorted(DIRECTIONS)}")
    _check(merged["allocation"] in ALLOCATIONS, source, ind_id, f"allocation must be one of {sorted(ALLOCATIONS)}")
    _check(merged["counted"] in COUNTED, source, ind_id, f"counted must be one of {sorted(COUNTED)}")
    kind = (merged["numerator"] or {}).get("kind")
    _check(kind in NUMERATOR_KINDS, source, ind_id, f"numerator kind must be one of {sorted(NUMERATOR_KINDS)}")
    _check(merged["overdispersion"] in OVERDISPERSION | {None}, source, ind_id,
           f"overdispersion must be one of {sorted(OVERDISPERSION)} or empty (the [funnel] setting)")
    in_process = merged["outlier_process"]
    _check(in_process in (True, False, None), source, ind_id, "outlier_process must be true, false or empty")
    _check(not (in_process and kind == "count"), source, ind_id, "a count without a rate cannot enter the outlier process")
    bad_sub = set(merged["subgroups"] or []) - SUBGROUPS
    _check(not bad_sub, source, ind_id, f"unknown subgroup(s) {sorted(bad_sub)}; allowed {sorted(SUBGROUPS)}")
    unavailable = tuple(
        Unavailability(u["nation"], tuple(u["financial_years"]), u.get("reason", "Data not available"))
        for u in merged["not_available"] or []
    )
    _check_rules(dict(merged["numerator"]), rules, source, ind_id, merged["allocation"])
    own = {**phrases, **_indicator_phrases(dict(merged["numerator"]), rules)}
    for name in TEMPLATED:
        merged[name] = _fill(merged[name], own, source, ind_id, name)
    return Indicator(
        id=ind_id, title=merged["title"], plain_title=merged["plain_title"], goal=int(merged["goal"]),
        type=merged["type"], direction=merged["direction"], denominator_text=merged["denominator_text"],
        denominator=dict(merged["denominator"] or {}), numerator_text=merged["numerator_text"],
        numerator=dict(merged["numerator"]), exclusions=str(merged["exclusions"]), window=str(merged["window"]),
        source=merged["source"], nations=tuple(merged["nations"]), not_available=unavailable,
        allocation=merged["allocation"],
        # Empty: the case-mix adjusted outcomes are in the outlier process, other indicators are not.
        outlier_process=bool(merged["casemix"]) if in_process is None else in_process,
        overdispersion=merged["overdispersion"],
        run_chart=bool(merged["run_chart"]), subgroups=tuple(merged["subgroups"] or ()),
        suppression=dict(merged["suppression"]), casemix=merged["casemix"],
        completeness_from=merged["completeness_from"], evidence=str(merged["evidence"] or ""),
        counted=merged["counted"], definitions_version=version,
    )


def in_sentence(text: str) -> str:
    """`text` to follow other words: its first letter lower-cased unless its first word is an acronym."""
    if len(text) > 1 and (text[1].isupper() or text[1].isdigit()):
        return text
    return text[:1].lower() + text[1:]


def load_registry(path: Path | str | None = None, config: Config | None = None) -> Registry:
    """Read and check the indicator registry, its texts worded from the configuration's rules (default: data/naome.toml)."""
    source = Path(path) if path else DEFAULT_REGISTRY
    config = config or default_config()
    rules = rules_from_config(config)
    phrases = rule_phrases(rules, config)
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RegistryError(f"indicator registry not found: {source}") from exc
    except yaml.YAMLError as exc:
        raise RegistryError(f"{source}: not valid YAML ({exc})") from exc
    version = str(raw.get("definitions_version", "unversioned"))
    defaults = raw.get("defaults", {})
    indicators = tuple(_build(e, defaults, version, source, rules, phrases) for e in raw.get("indicators", []))
    ids = [i.id for i in indicators]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise RegistryError(f"{source}: duplicate indicator id(s) {sorted(dupes)}")
    for ind in indicators:
        if ind.completeness_from and ind.completeness_from not in ids:
            raise RegistryError(f"{source}: indicator '{ind.id}': completeness_from '{ind.completeness_from}' is not an indicator")
    return Registry(indicators=indicators, survival=raw.get("survival", {}), definitions_version=version, source=source)


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The project's registry, read once per process."""
    return load_registry()
