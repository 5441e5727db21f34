"""What the methodology supplement says about its statistical methods, filled from the configuration and the results."""

from __future__ import annotations

from typing import Any

import pandas as pd

from naome_report.config import Config
from naome_report.hub import Results
from naome_report.method_settings import method_settings
from naome_report.numbers import format_fixed
from naome_report.outlier_process import NATIONS, OutlierProcess, load_outlier_process
from naome_report.registry import Registry
from naome_report.stats.funnel import METHODS, winsorised_normal_mean_square

CHOICE_WORDS = {
    "auto": "tested, with additive random effects where overdispersed",
    "additive": "additive random effects where \u03c4\u00b2 > 0",
    "multiplicative": "multiplicative (\u221a\u03c6) limits where \u03c6 > 1",
    "none": "not adjusted",
}
CHOICE_SHORT = {"auto": "Tested", "additive": "Additive", "multiplicative": "Multiplicative", "none": "Not adjusted"}
MODEL_SHORT = {"additive": "Additive random effects", "multiplicative": "Multiplicative", "none": "Not adjusted"}
SCALE_WORDS = {"arcsine": "arcsine square-root (variance-stabilising) scale", "proportion": "proportion scale"}
RULE_WORDS = {
    "outside_limits": "a point outside the limits",
    "trend": "a trend of {trend} points all rising or all falling",
    "two_of_three": "two of three points beyond two sigma on the same side",
    "shift": "a shift of {shift} points on one side of the centre line",
}


def _and(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else "none"


def _rules(names: tuple[str, ...], trend: int, shift: int) -> str:
    return _and([RULE_WORDS[n].format(trend=trend, shift=shift) for n in names])


def _overdispersion_rows(results: Results, registry: Registry, default: str) -> list[dict[str, str]]:
    """One row per indicator with a funnel: the configured choice and the headline period's estimate."""
    params = results.funnel_parameters
    params = params[(params.period == results.primary_period) & (params.subgroup == "all")].set_index("indicator_id")
    rows = []
    for ind in registry:
        if not ind.has_funnel or ind.id not in params.index:
            continue
        p = params.loc[ind.id]
        known = pd.notna(p.phi)
        rows.append({
            "title": ind.title, "choice": CHOICE_SHORT[ind.overdispersion or default],
            "units": format_fixed(p.units, 0) if known else "–",
            "phi": format_fixed(p.phi, 2) if known else "–",
            "p": ("<0.001" if p.phi_p_value < 0.001 else format_fixed(p.phi_p_value, 3)) if known else "–",
            "model": MODEL_SHORT.get(str(p.overdispersion_model), str(p.overdispersion_model)),
            "tau2": f"{p.tau2:.3g}" if pd.notna(p.tau2) else "–",
        })
    return rows


def _process_words(process: OutlierProcess) -> dict[str, Any]:
    """The outlier process as the documents state it: the bodies of each nation and every stage, from [outlier_process]."""
    regulators = _and([f"{process.regulator[n]} in {n}" for n in NATIONS])
    governments = _and([f"{process.government[n]} in {n}" for n in NATIONS])
    general = process.filled("the regulator", " or ".join(process.government[n] for n in NATIONS))

    def stages(level: str) -> list[dict[str, Any]]:
        return [{"number": s.number, "who": s.who, "action": s.action,
                 "days": "at publication" if s.at_publication else str(s.working_days) if s.working_days else "no limit"}
                for s in general.stages_of(level)]

    return {"guidance": process.guidance, "the_guidance": process.the_guidance, "regulators": regulators,
            "governments": governments, "alarm_stages": stages("alarm"), "alert_stages": stages("alert")}


def methods_context(results: Results, registry: Registry, config: Config) -> dict[str, Any]:
    """Every parameter the methods sections state, as text, from naome.toml, the registry and the run."""
    s = method_settings(config)
    f, spc, surv, disc = s.funnel, s.spc, s.survival, s.disclosure
    in_process = [i for i in registry if i.outlier_process]
    window_months = 3 * spc.rolling_quarters
    times = [format_fixed(t, 0) if float(t).is_integer() else format_fixed(t, 1) for t in surv.timepoints_years]
    return {
        "funnel": {
            "method": METHODS[f.method], "min_denominator": f.min_denominator,
            "winsorise": format_fixed(100 * f.winsorise, 0), "alpha": format_fixed(f.overdispersion_alpha, 2),
            "scale": SCALE_WORDS[f.overdispersion_scale], "min_units": f.min_units,
            "consistency": f.consistency_correction and f.winsorise > 0,
            "consistency_factor": format_fixed(winsorised_normal_mean_square(f.winsorise), 3),
            "default_choice": CHOICE_WORDS[f.overdispersion],
            "adjusted": [i.title_in_sentence for i in registry if i.has_funnel and i.is_casemix_adjusted],
            "rows": _overdispersion_rows(results, registry, f.overdispersion),
        },
        "outliers": {
            **_process_words(load_outlier_process(config)),
            "casemix": [i.title_in_sentence for i in in_process if i.is_casemix_adjusted],
            "key_process": [i.title_in_sentence for i in in_process if not i.is_casemix_adjusted],
            "neutral": [i.title_in_sentence for i in registry if i.has_funnel and i.direction == "neutral"],
        },
        "spc": {
            "chart": spc.chart, "window_months": window_months, "rolling_quarters": spc.rolling_quarters,
            "quarterly_rules": _rules(spc.quarterly_rules, spc.trend_length, spc.shift_length),
            "rolling_rules": _rules(spc.rolling_rules, spc.trend_length, spc.shift_length),
            "baseline_points": spc.baseline_points, "recalculate": spc.recalculate_after_shift,
            "min_points_before_shift": spc.min_points_before_shift, "min_published_points": spc.min_published_points,
        },
        "survival": {"times": _and(times) + (" year" if times == ["1"] else " years"), "min_at_risk": surv.min_at_risk},
        "disclosure": {"low": disc.suppress_low, "high": disc.suppress_high, "min_denominator": disc.min_denominator},
        "rounding_example": f"56.25% is published as {format_fixed(56.25, 1)}% and 0.125 as {format_fixed(0.125, 2)}",
        "and": _and,
    }
