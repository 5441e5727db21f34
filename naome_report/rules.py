"""The cohort rules and code lists of data/naome.toml, checked once when read, with the words that state them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from naome_report.config import Config, ConfigError

# Metastatic-site groups reported as patient flags (has_<site>_metastases), in report order; "other" is not.
REPORTED_SITES = ("bone", "liver", "lung", "brain", "nodes", "pleura")
ALLOCATION_SOURCES = {
    "first_mdt": "the trust or health board of the first MDT discussion",
    "first_metastatic_record": "the organisation of the record that dated the metastatic diagnosis "
                               "(for a stage 4 primary, the organisation that diagnosed it)",
}
RECEPTOR_VALUES = {"P": "positive", "N": "negative"}
UNKNOWN = "Unknown"


@dataclass(frozen=True)
class SiteCode:
    """One ICD-10 code of a secondary neoplasm: its site group, and whether it is evidence of distant metastasis."""

    code: str
    site: str
    distant: bool
    meaning: str
    why: str


@dataclass(frozen=True)
class Subtype:
    """A receptor subtype: the ER, PR and HER2 values it requires (empty: any value)."""

    label: str
    er: tuple[str, ...] = ()
    pr: tuple[str, ...] = ()
    her2: tuple[str, ...] = ()

    @property
    def words(self) -> str:
        """'ER negative, PR positive and HER2 negative'."""
        parts = [f"{name} {' or '.join(RECEPTOR_VALUES.get(v, v) for v in values)}"
                 for name, values in (("ER", self.er), ("PR", self.pr), ("HER2", self.her2)) if values]
        return join_words(parts, "and")


@dataclass(frozen=True)
class CohortRules:
    """Every cohort rule and code list the derivation applies (data/naome.toml [cohort], [windows],
    [allocation], [censoring], [cpes] and [code_lists])."""

    breast_icd10_prefixes: tuple[str, ...]
    de_novo_window_days: int
    stage4_primary_counts: bool
    min_age: int
    max_age: int
    metastatic_sites_days: tuple[int, int]
    performance_status_days: tuple[int, int]
    first_treatment_days: tuple[int, int]
    allocation_mdt_days: tuple[int, int]
    diagnosing_org: tuple[str, ...]
    mortality_requires_complete_followup: bool
    cpes_financial_year_offset: int
    cpes_sample_months: str
    palliative_radiotherapy_intents: tuple[str, ...]
    performance_status_values: tuple[str, ...]
    performance_status_groups: dict[str, tuple[str, ...]]
    emergency_admission_methods: tuple[str, ...]
    ethnicity_groups: dict[str, tuple[str, ...]]
    age_band_edges: tuple[int, ...]
    charlson_band_edges: tuple[int, ...]
    sact_regimen_groups: dict[str, tuple[str, ...]]
    not_anti_cancer: tuple[str, ...]
    subtypes: tuple[Subtype, ...]
    metastatic_sites: tuple[SiteCode, ...]

    def site_code(self, code: str) -> SiteCode | None:
        """The entry for an ICD-10 code: the code itself, else its three-character category; None when unlisted."""
        by_code = {s.code: s for s in self.metastatic_sites}
        return by_code.get(code) or by_code.get(str(code)[:3])

    def code_list(self, name: str) -> tuple[str, ...]:
        """A code list by its name in [code_lists] (for the indicator registry)."""
        lists = {"palliative_radiotherapy_intents": self.palliative_radiotherapy_intents,
                 "performance_status_values": self.performance_status_values,
                 "emergency_admission_methods": self.emergency_admission_methods, **self.sact_regimen_groups}
        try:
            return lists[name]
        except KeyError:
            raise KeyError(f"no code list '{name}' in [code_lists]; known: {', '.join(sorted(lists))}") from None

    @property
    def code_list_names(self) -> set[str]:
        return {"palliative_radiotherapy_intents", "performance_status_values", "emergency_admission_methods",
                *self.sact_regimen_groups}

    @property
    def age_bands(self) -> list[str]:
        """'<50', '50-59', ..., '80+' from the configured edges."""
        return band_labels(self.age_band_edges, first=f"<{self.age_band_edges[0]}")

    @property
    def charlson_bands(self) -> list[str]:
        """'0', '1', '2+' from the configured edges."""
        return band_labels(self.charlson_band_edges, first="0" if self.charlson_band_edges[0] == 1 else
                           f"0-{self.charlson_band_edges[0] - 1}")


def band_labels(edges: tuple[int, ...], first: str) -> list[str]:
    """Labels of the bands cut at `edges`: `first`, then 'a-b' (or 'a' for a one-value band), then 'last+'."""
    labels = [first]
    for lo, hi in zip(edges, edges[1:]):
        labels.append(str(lo) if hi - lo == 1 else f"{lo}-{hi - 1}")
    return labels + [f"{edges[-1]}+"]


# --- reading and checking -------------------------------------------------------------------------------

def _fail(config: Config, where: str, message: str) -> ConfigError:
    return ConfigError(f"{config.source}: {where}: {message}")


def _codes(config: Config, where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(config, where, "must be a list of codes written as text, e.g. [\"P\"]")
    return tuple(value)


def _window(config: Config, where: str, value: Any) -> tuple[int, int]:
    ok = isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                              for v in value)
    if not ok or value[0] > value[1]:
        raise _fail(config, where, f"must be two whole numbers of days, the first not after the second (got {value!r})")
    return int(value[0]), int(value[1])


def _int(config: Config, where: str, value: Any, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise _fail(config, where, f"must be a whole number of at least {minimum} (got {value!r})")
    return value


def _bool(config: Config, where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(config, where, f"must be true or false (got {value!r})")
    return value


def _groups(config: Config, where: str, value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict) or not value:
        raise _fail(config, where, "must be a table of group = [codes]")
    return {str(k): _codes(config, f"{where}.{k}", v) for k, v in value.items()}


def _edges(config: Config, where: str, value: Any) -> tuple[int, ...]:
    if (not isinstance(value, list) or not value or not all(isinstance(v, int) for v in value)
            or sorted(set(value)) != value):
        raise _fail(config, where, f"must be increasing whole numbers (got {value!r})")
    return tuple(value)


def _subtypes(config: Config, value: Any) -> tuple[Subtype, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(config, "[[code_lists.subtypes]]", "at least one subtype is needed")
    out = []
    for i, entry in enumerate(value, 1):
        where = f"[[code_lists.subtypes]] number {i}"
        unknown = set(entry) - {"label", "er", "pr", "her2"}
        if unknown or not entry.get("label"):
            raise _fail(config, where, f"needs a label and only er, pr, her2 (unknown: {sorted(unknown)})")
        if entry["label"] == UNKNOWN:
            raise _fail(config, where, f"'{UNKNOWN}' is the subtype of a patient matching no rule: do not define it")
        out.append(Subtype(entry["label"], *(_codes(config, f"{where} {k}", entry[k]) if k in entry else ()
                                               for k in ("er", "pr", "her2"))))
    return tuple(out)


def _sites(config: Config, value: Any) -> tuple[SiteCode, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(config, "[[code_lists.metastatic_sites]]", "the list of secondary-neoplasm codes is empty")
    out, seen = [], set()
    for i, entry in enumerate(value, 1):
        where = f"[[code_lists.metastatic_sites]] number {i}"
        missing = {"code", "site", "distant", "meaning", "why"} - set(entry)
        if missing:
            raise _fail(config, where, f"missing {', '.join(sorted(missing))}")
        if entry["site"] not in (*REPORTED_SITES, "other"):
            raise _fail(config, where, f"site must be one of {', '.join((*REPORTED_SITES, 'other'))}")
        if entry["code"] in seen:
            raise _fail(config, where, f"code {entry['code']} is listed twice")
        seen.add(entry["code"])
        out.append(SiteCode(str(entry["code"]), entry["site"], _bool(config, where + " distant", entry["distant"]),
                            str(entry["meaning"]), str(entry["why"])))
    return tuple(out)


def rules_from_config(config: Config) -> CohortRules:
    """The cohort rules of a configuration, each checked; a bad value names the file, the setting and the fix."""
    cohort, windows, allocation = config.section("cohort"), config.section("windows"), config.section("allocation")
    censoring, cpes, lists = config.section("censoring"), config.section("cpes"), config.section("code_lists")
    try:
        order = tuple(allocation["diagnosing_org"])
        bad = [s for s in order if s not in ALLOCATION_SOURCES]
        if bad or not order:
            raise _fail(config, "[allocation] diagnosing_org",
                        f"must list some of {', '.join(ALLOCATION_SOURCES)} (unknown: {bad})")
        groups = _groups(config, "[code_lists.sact_regimen_groups]", lists["sact_regimen_groups"])
        not_anti_cancer = groups.pop("not_anti_cancer", None)
        if not_anti_cancer is None:
            raise _fail(config, "[code_lists.sact_regimen_groups]", "needs not_anti_cancer (drugs that alone are not anti-cancer SACT)")
        ps_values = _codes(config, "[code_lists] performance_status_values", lists["performance_status_values"])
        ps_groups = _groups(config, "[code_lists.performance_status_groups]", lists["performance_status_groups"])
        stray = sorted({v for g in ps_groups.values() for v in g} - set(ps_values))
        if stray:
            raise _fail(config, "[code_lists.performance_status_groups]", f"values {stray} are not in performance_status_values")
        bands = lists["covariate_bands"]
        rules = CohortRules(
            breast_icd10_prefixes=_codes(config, "[cohort] breast_icd10_prefixes", cohort["breast_icd10_prefixes"]),
            de_novo_window_days=_int(config, "[cohort] de_novo_window_days", cohort["de_novo_window_days"]),
            stage4_primary_counts=_bool(config, "[cohort] stage4_primary_counts", cohort["stage4_primary_counts"]),
            min_age=_int(config, "[cohort] min_age", cohort["min_age"]),
            max_age=_int(config, "[cohort] max_age", cohort["max_age"], minimum=1),
            metastatic_sites_days=_window(config, "[windows] metastatic_sites_days", windows["metastatic_sites_days"]),
            performance_status_days=_window(config, "[windows] performance_status_days", windows["performance_status_days"]),
            first_treatment_days=_window(config, "[windows] first_treatment_days", windows["first_treatment_days"]),
            allocation_mdt_days=_window(config, "[windows] allocation_mdt_days", windows["allocation_mdt_days"]),
            diagnosing_org=order,
            mortality_requires_complete_followup=_bool(config, "[censoring] mortality_requires_complete_followup",
                                                       censoring["mortality_requires_complete_followup"]),
            cpes_financial_year_offset=_int(config, "[cpes] financial_year_offset", cpes["financial_year_offset"], -5),
            cpes_sample_months=str(cpes["sample_months"]),
            palliative_radiotherapy_intents=_codes(config, "[code_lists] palliative_radiotherapy_intents",
                                                   lists["palliative_radiotherapy_intents"]),
            performance_status_values=ps_values, performance_status_groups=ps_groups,
            emergency_admission_methods=_codes(config, "[code_lists] emergency_admission_methods",
                                               lists["emergency_admission_methods"]),
            ethnicity_groups=_groups(config, "[code_lists.ethnicity_groups]", lists["ethnicity_groups"]),
            age_band_edges=_edges(config, "[code_lists.covariate_bands] age_years", bands["age_years"]),
            charlson_band_edges=_edges(config, "[code_lists.covariate_bands] charlson_index", bands["charlson_index"]),
            sact_regimen_groups=groups, not_anti_cancer=not_anti_cancer,
            subtypes=_subtypes(config, lists["subtypes"]), metastatic_sites=_sites(config, lists["metastatic_sites"]),
        )
    except KeyError as exc:
        raise ConfigError(f"{config.source}: missing setting {exc.args[0]!r} of the cohort rules; "
                          "see the [cohort], [windows] and [code_lists] sections of data/naome.toml") from None
    if rules.min_age > rules.max_age:
        raise _fail(config, "[cohort]", f"min_age {rules.min_age} is above max_age {rules.max_age}")
    if not any(s.distant for s in rules.metastatic_sites):
        raise _fail(config, "[[code_lists.metastatic_sites]]", "no code counts as distant metastasis")
    return rules


# --- words -----------------------------------------------------------------------------------------------

def join_words(items: list[str] | tuple[str, ...], last: str = "or") -> str:
    """'a', 'a or b', 'a, b or c'."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def _gloss(days: int) -> str:
    """A whole number of months (30.44 days) or weeks that `days` is, as ' (6 months)'; '' when it is neither."""
    months = days / 30.44
    if days >= 28 and round(months) and abs(months - round(months)) <= 0.05:
        n = round(months)
        return f" ({n} month{'s' if n != 1 else ''})"
    if days >= 7 and days % 7 == 0:
        n = days // 7
        return f" ({n} week{'s' if n != 1 else ''})"
    return ""


def duration_words(days: int, short: bool = False) -> str:
    """183 as '183 days (6 months)', or '6 months' when short and it is a whole number of months or weeks."""
    gloss = _gloss(abs(days))
    if short and gloss:
        return gloss.strip(" ()")
    return f"{abs(days)} day{'s' if abs(days) != 1 else ''}{gloss}"


def window_words(window: tuple[int, int], event: str = "the MBC diagnosis", short: bool = False) -> str:
    """A window of days around an event in words: 'within 183 days (6 months) of ...', 'from 31 days before to
    91 days after ...'."""
    lo, hi = window
    if lo == 0:
        return f"within {duration_words(hi, short)} of {event}" if hi else f"on the date of {event}"
    if lo < 0 <= hi:
        return f"from {duration_words(lo, short)} before to {duration_words(hi, short)} after {event}"
    if hi < 0:
        return f"from {duration_words(lo, short)} to {duration_words(hi, short)} before {event}"
    return f"from {duration_words(lo, short)} to {duration_words(hi, short)} after {event}"


def drug_words(drugs: tuple[str, ...]) -> str:
    """'PALBOCICLIB', 'RIBOCICLIB' as 'palbociclib or ribociclib'."""
    return join_words([d.lower() for d in drugs])
