"""naome_breakdowns.csv: every rate indicator by patient characteristic, with a test of whether the differences are beyond chance."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from naome_report.cohort import Cohort
from naome_report.config import Config, ConfigError
from naome_report.indicators import NATION_CODES, NATIONAL_CODE, NATIONAL_NAME, PatientCodes, patient_membership
from naome_report.registry import Registry
from naome_report.stats.association import chi_squared_independence, chi_squared_trend
from naome_report.stats.disclosure import hidden_elsewhere, suppress_rows
from naome_report.stats.wilson import wilson_interval
from naome_report.vocabulary import CHARACTERISTIC

MULTIPLE_TESTING = ("holm", "fdr_bh", "bonferroni", "hommel", "fdr_by", "none")
UNITS = ((NATIONAL_CODE, NATIONAL_NAME, "national"), (NATION_CODES["England"], "England", "nation"),
         (NATION_CODES["Wales"], "Wales", "nation"))


def _category_codes(values: pd.Series, listed: list[str]) -> tuple[np.ndarray, list[str]]:
    """Each patient's category position, and the categories: the listed ones, then any others observed, sorted."""
    text = values.astype(str).where(values.notna())
    seen = set(text.dropna().unique())
    categories = [*listed, *sorted(seen - set(listed))]
    return pd.Categorical(text, categories=categories).codes.astype(np.int64), categories


def _counts(registry: Registry, cohort: Cohort, codes: PatientCodes, cutoff: pd.Timestamp,
            settings: dict) -> pd.DataFrame:
    """True numerator and denominator of every rate indicator x unit x characteristic x category."""
    characteristics = {c: _category_codes(cohort.patients[c], settings["categories"].get(c, []))
                       for c in settings["characteristics"]}
    columns: dict[str, list] = {k: [] for k in ("level", "org_code", "nation", "indicator_id", "indicator_title",
                                                "characteristic", "category", "category_order", "numerator", "denominator")}
    for ind in registry:
        if not ind.has_rate or ind.numerator["kind"] == "org_aggregate":
            continue
        keep, numerator, nation = patient_membership(ind, cohort, codes, cutoff)
        in_wales = (nation == "Wales").astype(np.int64)
        for characteristic, (code, cats) in characteristics.items():
            k = len(cats)
            rows = keep & (code >= 0)
            cell = in_wales[rows] * k + code[rows]
            den = np.bincount(cell, minlength=2 * k).reshape(2, k).astype(float)
            num = np.bincount(cell, weights=numerator[rows], minlength=2 * k).reshape(2, k)
            for (org_code, nation_name, level), n, x in zip(UNITS, (den.sum(0), den[0], den[1]), (num.sum(0), num[0], num[1])):
                for name, value in (("level", level), ("org_code", org_code), ("nation", nation_name),
                                    ("indicator_id", ind.id), ("indicator_title", ind.title),
                                    ("characteristic", characteristic)):
                    columns[name].append(np.full(k, value, dtype=object))
                columns["category"].append(np.asarray(cats, dtype=object))
                columns["category_order"].append(np.arange(1, k + 1))
                columns["numerator"].append(x)
                columns["denominator"].append(n)
    return pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})


def _already_hidden(frame: pd.DataFrame, suppressed: pd.DataFrame, cohort_counts: pd.DataFrame,
                    cohort_summary: pd.DataFrame, pooled: str) -> np.ndarray:
    """Rows whose count is hidden in another public file (the indicators' subgroups, the cohort summary)."""
    national = suppressed[(suppressed.period == pooled) & suppressed.level.isin(["national", "nation"])]
    keys = (national.indicator_id + "|" + national.org_code).to_numpy(object)
    other_keys = np.r_[keys, keys]
    other_values = np.r_[national.numerator.to_numpy(float), national.denominator.to_numpy(float)]
    my_keys = (frame.indicator_id + "|" + frame.org_code).to_numpy(object)
    hidden = hidden_elsewhere(my_keys, frame.numerator, other_keys, other_values)
    hidden |= hidden_elsewhere(my_keys, frame.denominator, other_keys, other_values)
    gone = cohort_summary[cohort_summary.status == "suppressed"]
    gone_keys = (gone.nation + "|" + gone.characteristic + "|" + gone.category.astype(str)).to_numpy(object)
    true = cohort_counts.set_index("key").patients.reindex(gone_keys).to_numpy(float)
    mine = (frame.nation + "|" + frame.characteristic + "|" + frame.category).to_numpy(object)
    hidden |= hidden_elsewhere(mine, frame.numerator, gone_keys, true)
    hidden |= hidden_elsewhere(mine, frame.denominator, gone_keys, true)
    return hidden


def _cohort_counts(cohort: Cohort, orgs: pd.DataFrame, characteristics: list[str]) -> pd.DataFrame:
    """Patients per nation x characteristic x category, as the cohort summary counts them before suppression."""
    pts = cohort.patients
    nation = pts.diagnosing_org.map(orgs.set_index("org_code").nation)
    parts = []
    for characteristic in characteristics:
        for name, sub in [(NATIONAL_NAME, pts[characteristic])] + list(pts[characteristic].groupby(nation)):
            counts = sub.astype(str).value_counts()
            parts.append(pd.DataFrame({"key": name + "|" + characteristic + "|" + counts.index, "patients": counts.to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def _tests(frame: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """One test per indicator x unit x characteristic over its tested categories, from true counts."""
    group = ["indicator_id", "org_code", "characteristic"]
    tested = frame[frame.in_test].copy()
    width = int(tested.category_order.max())
    index = tested.groupby(group, sort=False).ngroup().to_numpy()
    n_tables = index.max() + 1
    x, n = np.full((n_tables, width), np.nan), np.full((n_tables, width), np.nan)
    col = tested.category_order.to_numpy() - 1
    x[index, col], n[index, col] = tested.numerator.to_numpy(float), tested.denominator.to_numpy(float)
    chi, df, p = chi_squared_independence(x, n)
    trend, p_trend = chi_squared_trend(x, n)  # scores 1, 2, ... follow the configured category order
    ordered = tested.groupby(group, sort=False).characteristic.first().isin(settings["ordered"]).to_numpy()
    with np.errstate(invalid="ignore"):
        used = np.nan_to_num(n) > 0
        rate = np.nansum(x, 1) / np.nansum(n, 1)
        expected_min = np.where(used, np.minimum(n * rate[:, None], n * (1 - rate[:, None])), np.inf).min(1)
    hidden = tested.groupby(group, sort=False).hidden.any().to_numpy()
    categories = used.sum(1)
    status = np.select([hidden, categories < 2, ~np.isfinite(np.where(ordered, p_trend, p)),
                        expected_min < settings["min_expected"]],
                       ["withheld", "too_few_categories", "no_variation", "too_few"], "tested")
    keys = tested.groupby(group, sort=False).size().index.to_frame(index=False)
    run = status == "tested"
    return keys.assign(test=np.where(ordered, "chi_squared_trend", "chi_squared"),
                       chi_squared=np.where(run, np.where(ordered, trend, chi), np.nan),
                       df=np.where(run, np.where(ordered, 1, df), np.nan),
                       p_value=np.where(run, np.where(ordered, p_trend, p), np.nan), test_status=status)


def _adjust(tests: pd.DataFrame, method: str, significance: float) -> pd.DataFrame:
    """Adjusted p-values over every test run, and whether each difference is beyond chance."""
    run = tests.test_status.eq("tested").to_numpy()
    adjusted = np.full(len(tests), np.nan)
    if run.any():
        p = tests.p_value.to_numpy(float)[run]
        adjusted[run] = p if method == "none" else multipletests(p, alpha=significance, method=method)[1]
    beyond = np.where(adjusted < significance, "yes", "no")
    return tests.assign(p_value_adjusted=adjusted, beyond_chance=np.where(run, beyond, ""))


def check_breakdown_settings(settings: dict, patients: pd.DataFrame, source: object) -> None:
    """Refuse a [breakdowns] setting the table cannot honour, naming it."""
    for characteristic in settings["characteristics"]:
        if characteristic not in patients.columns:
            raise ConfigError(f"{source}: [breakdowns] characteristics: {characteristic!r} is not a derived patient column")
        if characteristic not in CHARACTERISTIC:
            raise ConfigError(f"{source}: [breakdowns] characteristics: {characteristic!r} has no words in "
                              "naome_report/vocabulary.py CHARACTERISTIC")
    for name in settings["ordered"]:
        if name not in settings["characteristics"]:
            raise ConfigError(f"{source}: [breakdowns] ordered: {name!r} is not one of the characteristics")
    if settings["multiple_testing"] not in MULTIPLE_TESTING:
        raise ConfigError(f"{source}: [breakdowns] multiple_testing: {settings['multiple_testing']!r} is not one of "
                          f"{', '.join(MULTIPLE_TESTING)}")


def breakdown_table(registry: Registry, cohort: Cohort, orgs: pd.DataFrame, codes: PatientCodes, config: Config,
                    suppressed: pd.DataFrame, indicators: pd.DataFrame, cohort_summary: pd.DataFrame,
                    synthetic: bool) -> pd.DataFrame:
    """The breakdowns file: counts, Wilson intervals and disclosure per category, and one test per characteristic.

    ``suppressed``: the true counts of the indicators file's suppressed rows, hidden here too where they recur.
    """
    settings = config.section("breakdowns")
    check_breakdown_settings(settings, cohort.patients, config.source)
    rules = config.section("disclosure")
    cutoff = pd.Timestamp(config.data_cutoff)
    frame = _counts(registry, cohort, codes, cutoff, settings)
    pooled = config.primary_period
    seed = _already_hidden(frame, suppressed, _cohort_counts(cohort, orgs, settings["characteristics"]),
                           cohort_summary, pooled)
    # A characteristic's categories add up to the unit's total; England and Wales add up to the national row.
    within_unit = (frame.indicator_id + "|" + frame.org_code + "|" + frame.characteristic).to_numpy(object)
    across_nations = (frame.indicator_id + "|" + frame.characteristic + "|" + frame.category).where(frame.level == "nation")
    decision = suppress_rows(frame.numerator, frame.denominator, [within_unit, across_nations.to_numpy(object)],
                             already_hidden=seed, low=rules["suppress_low"], high=rules["suppress_high"],
                             min_denominator=rules["min_denominator"])
    frame["hidden"] = decision.hidden.to_numpy()
    frame["status"] = decision.status.to_numpy()
    frame["in_test"] = ~frame.category.isin(settings["not_tested"]) & (frame.denominator > 0)
    tests = _adjust(_tests(frame, settings), settings["multiple_testing"], settings["significance"])
    frame = frame.merge(tests, on=["indicator_id", "org_code", "characteristic"], how="left")
    lower, upper = wilson_interval(frame.numerator, frame.denominator)
    show = frame.status.eq("published").to_numpy()
    frame["percentage"] = np.where(show, frame.numerator / frame.denominator.where(frame.denominator > 0) * 100, np.nan)
    frame["ci_lower_95"] = np.where(show, lower * 100, np.nan)
    frame["ci_upper_95"] = np.where(show, upper * 100, np.nan)
    frame["numerator"] = frame.numerator.where(~frame.hidden)
    frame["denominator"] = frame.denominator.where(~frame.hidden)
    frame["in_test"] = np.where(frame.in_test, "yes", "no")
    frame["test_status"] = frame.test_status.fillna("too_few_categories")
    frame["status_note"] = _notes(frame, indicators, pooled, rules)
    return frame.assign(period=pooled, period_type="pooled", synthetic_data="yes" if synthetic else "no")


def _notes(frame: pd.DataFrame, indicators: pd.DataFrame, pooled: str, rules: dict) -> np.ndarray:
    """Plain reason for a status other than published; the unit's availability note where data are partial."""
    totals = indicators[(indicators.period == pooled) & (indicators.subgroup == "all")].set_index(["indicator_id", "org_code"])
    availability = pd.MultiIndex.from_frame(frame[["indicator_id", "org_code"]]).map(totals.status_note).to_numpy(object)
    return np.select(
        [frame.status == "suppressed", frame.status == "not_applicable", frame.status == "too_few"],
        [f"Suppressed: a count from {rules['suppress_low']} to {rules['suppress_high']}, or one that would reveal such a count",
         "No eligible patients", f"Too few patients (denominator under {rules['min_denominator']}) to show a rate"],
        pd.Series(availability).fillna("").to_numpy(object))
