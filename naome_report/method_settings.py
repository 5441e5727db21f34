"""The statistical methods' settings ([funnel], [spc], [survival], [disclosure]), checked when read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from naome_report.config import Config, ConfigError
from naome_report.stats.funnel import METHODS, OVERDISPERSION_CHOICES, SCALES
from naome_report.stats.spc import CHART_CHOICES, RULE_ORDER


@dataclass(frozen=True)
class FunnelSettings:
    """[funnel]: limits, overdispersion and who is placed on a funnel."""

    method: str
    overdispersion: str
    winsorise: float
    consistency_correction: bool
    overdispersion_alpha: float
    overdispersion_scale: str
    min_units: int
    min_denominator: int


@dataclass(frozen=True)
class SpcSettings:
    """[spc]: run charts (Making Data Count p-charts)."""

    chart: str
    rolling_quarters: int
    quarterly_rules: tuple[str, ...]
    rolling_rules: tuple[str, ...]
    trend_length: int
    shift_length: int
    baseline_points: int
    recalculate_after_shift: bool
    min_points_before_shift: int
    min_published_points: int


@dataclass(frozen=True)
class SurvivalSettings:
    """[survival]: time points and the number at risk an estimate needs."""

    timepoints_years: tuple[float, ...]
    min_at_risk: int


@dataclass(frozen=True)
class DisclosureSettings:
    """[disclosure]: small-number suppression and the completeness threshold."""

    suppress_low: int
    suppress_high: int
    min_denominator: int
    completeness_threshold: float


@dataclass(frozen=True)
class MethodSettings:
    """Every statistical setting of one run."""

    funnel: FunnelSettings
    spc: SpcSettings
    survival: SurvivalSettings
    disclosure: DisclosureSettings


def _section(config: Config, name: str, cls: type, strict: bool = True) -> Any:
    """One section as its dataclass; `strict` refuses keys the dataclass does not know."""
    raw = config.section(name)
    fields = cls.__dataclass_fields__
    missing = [k for k in fields if k not in raw]
    if missing:
        raise ConfigError(f"{config.source}: [{name}] is missing {', '.join(missing)}")
    unknown = [k for k in raw if k not in fields]
    if unknown and strict:
        raise ConfigError(f"{config.source}: [{name}] has unknown key(s) {', '.join(unknown)}; known: {', '.join(fields)}")
    values = {k: tuple(raw[k]) if isinstance(raw[k], list) else raw[k] for k in fields}
    return cls(**values)


def _require(condition: bool, config: Config, key: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{config.source}: {key} {message}")


def method_settings(config: Config) -> MethodSettings:
    """Read and check the statistical settings, naming the file and key of anything unusable."""
    funnel = _section(config, "funnel", FunnelSettings)
    spc = _section(config, "spc", SpcSettings)
    survival = _section(config, "survival", SurvivalSettings)
    # [disclosure] is shared with other stages, which may add keys of their own.
    disclosure = _section(config, "disclosure", DisclosureSettings, strict=False)
    _require(funnel.method in METHODS, config, "[funnel] method", f"must be one of {', '.join(METHODS)}")
    _require(funnel.overdispersion in OVERDISPERSION_CHOICES, config, "[funnel] overdispersion",
             f"must be one of {', '.join(OVERDISPERSION_CHOICES)}")
    _require(funnel.overdispersion_scale in SCALES, config, "[funnel] overdispersion_scale",
             f"must be one of {', '.join(SCALES)}")
    _require(0 <= funnel.winsorise < 0.5, config, "[funnel] winsorise", "must be at least 0 and under 0.5")
    _require(0 < funnel.overdispersion_alpha < 1, config, "[funnel] overdispersion_alpha", "must be between 0 and 1")
    _require(funnel.min_units >= 2, config, "[funnel] min_units", "must be at least 2")
    _require(spc.chart in CHART_CHOICES, config, "[spc] chart", f"must be one of {', '.join(CHART_CHOICES)}")
    for key in ("quarterly_rules", "rolling_rules"):
        bad = set(getattr(spc, key)) - set(RULE_ORDER)
        _require(not bad, config, f"[spc] {key}", f"has unknown rule(s) {sorted(bad)}; known: {', '.join(RULE_ORDER)}")
    _require(spc.rolling_quarters >= 1, config, "[spc] rolling_quarters", "must be at least 1")
    _require(spc.trend_length >= 2 and spc.shift_length >= 2, config, "[spc] trend_length / shift_length",
             "must be at least 2")
    _require(survival.min_at_risk >= 1, config, "[survival] min_at_risk", "must be at least 1")
    _require(all(t > 0 for t in survival.timepoints_years), config, "[survival] timepoints_years",
             "must be positive numbers of years")
    _require(1 <= disclosure.suppress_low <= disclosure.suppress_high, config, "[disclosure] suppress_low / suppress_high",
             "must satisfy 1 <= suppress_low <= suppress_high")
    return MethodSettings(funnel=funnel, spc=spc,
                          survival=survival, disclosure=disclosure)
