"""The public data files: complete, disclosure-safe and reconciled (outliers: tests/test_methods_hub.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from naome_report.config import load_config
from naome_report.hub import FILES
from naome_report.registry import load_registry
from naome_report.organisations import load_organisations

COUNT_COLUMNS = ("numerator", "denominator", "patients", "deaths", "at_risk")


@pytest.fixture(scope="module")
def indicators(data_dir):
    return pd.read_csv(data_dir / "naome_indicators.csv", dtype={"org_code": str, "parent_code": str}, low_memory=False)


def test_every_file_has_the_documented_columns_in_order(data_dir):
    for name, columns in FILES.items():
        header = pd.read_csv(data_dir / name, nrows=0).columns.tolist()
        assert header == list(columns), name
    readme = (data_dir / "README.md").read_text()
    for name, columns in FILES.items():
        assert f"## {name}" in readme
        assert all(f"`{c}`" in readme for c in columns)


def test_no_count_between_1_and_4_anywhere(data_dir):
    for name in FILES:
        frame = pd.read_csv(data_dir / name, low_memory=False)
        for col in COUNT_COLUMNS:
            if col in frame:
                values = pd.to_numeric(frame[col], errors="coerce")
                small = values.between(1, 4)
                assert not small.any(), f"{name}.{col} publishes {values[small].head().tolist()}"


def test_suppressed_rows_have_no_numbers(indicators):
    hidden = indicators[indicators.status != "published"]
    for col in ("percentage", "ci_lower_95", "ci_upper_95", "adjusted_percentage", "observed_expected"):
        assert hidden[col].isna().all(), col
    assert indicators.loc[indicators.status == "suppressed", ["numerator", "denominator"]].isna().any(axis=1).all()


def test_complement_of_a_published_numerator_is_never_small(indicators):
    pub = indicators.dropna(subset=["numerator", "denominator"])
    complement = pub.denominator - pub.numerator
    assert not complement.between(1, 4).any()


def test_no_suppressed_organisation_recoverable_from_its_alliance(indicators):
    orgs = indicators[(indicators.level == "organisation") & (indicators.status != "not_available")]
    parents = indicators[indicators.level == "alliance"].set_index(["indicator_id", "period", "subgroup", "org_code"])
    for key, group in orgs.groupby(["indicator_id", "period", "subgroup", "parent_code"]):
        if key not in parents.index or group.numerator.isna().sum() != 1:
            continue
        for col in ("numerator", "denominator"):
            total = parents.loc[key, col]
            if np.isnan(total) or group[col].isna().sum() != 1:
                continue
            recovered = total - group[col].sum()
            assert not 1 <= recovered <= 4, f"{col} {recovered} of {key} can be recovered by subtraction"


def test_every_indicator_at_every_level(indicators):
    registry = load_registry()
    config = load_config()
    primary = indicators[(indicators.period == config.primary_period) & (indicators.subgroup == "all")]
    n_orgs = len(load_organisations(config, synthetic=True))
    for ind in registry:
        rows = primary[primary.indicator_id == ind.id]
        assert set(rows.level) == {"national", "nation", "region", "alliance", "organisation"}, ind.id
        assert (rows.level == "organisation").sum() == n_orgs, ind.id


def test_national_percentages_match_an_independent_count(indicators, output_dir):
    """MDT within -31..+91 days, counted directly from the extract with plain pandas."""
    extract = output_dir / "synthetic-extract"
    flow = pd.read_csv(output_dir / "data" / "naome_patient_flow.csv").set_index("step")["count"]
    row = indicators[(indicators.indicator_id == "ascertainment") & (indicators.level == "national")
                     & (indicators.period_type == "pooled") & (indicators.subgroup == "all")].iloc[0]
    assert row.numerator == flow["cohort"]
    care = pd.read_csv(extract / "care_events.csv", dtype=str)
    mets = pd.read_csv(extract / "metastases.csv", dtype=str)
    tum = pd.read_csv(extract / "tumours.csv", dtype=str)
    care["event_date"] = pd.to_datetime(care.event_date, errors="coerce")
    mets["metastasis_date"] = pd.to_datetime(mets.metastasis_date, errors="coerce")
    tum["diagnosis_date"] = pd.to_datetime(tum.diagnosis_date, errors="coerce")
    q = pd.read_csv(output_dir / "restricted" / "quarantine" / "quarantine.csv", dtype=str)
    care = care[~care.event_id.isin(q.key)]
    mets = mets[~mets.record_id.isin(q.key)]
    # Distant metastasis codes as configured: exact code, else its three-character category.
    listed = {e["code"]: e["distant"] for e in load_config().section("code_lists")["metastatic_sites"]}
    distant = mets.site_icd10.map(lambda c: listed.get(c, listed.get(str(c)[:3], False))).astype(bool)
    first_met = mets[distant].groupby("patient_id").metastasis_date.min()
    tum = tum.sort_values(["diagnosis_date", "tumour_id"]).drop_duplicates("patient_id")  # each person's first primary
    m1 = tum[tum.tnm_m.eq("M1") | tum.stage_group.eq("4")].set_index("patient_id").diagnosis_date
    mbc = pd.concat([first_met, m1], axis=1).min(axis=1)
    start, end = pd.Timestamp("2023-04-01"), pd.Timestamp("2026-03-31")
    mdt = care[care.event_type == "MDT"].assign(mbc=lambda d: d.patient_id.map(mbc))
    days = (mdt.event_date - mdt.mbc).dt.days
    hit = mdt[days.between(-31, 91) & mdt.mbc.between(start, end)].patient_id.unique()
    published = indicators[(indicators.indicator_id == "mdt") & (indicators.level == "national")
                           & (indicators.period_type == "pooled") & (indicators.subgroup == "all")].iloc[0]
    # The independent count ignores the small exclusions (age limits, diagnosed at death); allow for them.
    reasons = pd.read_csv(output_dir / "restricted" / "quarantine" / "exclusions_by_reason.csv")
    reasons = reasons[reasons.file == "patients"].set_index("reason").records  # unsuppressed: restricted
    excluded_small = sum(reasons.get(r, 0) for r in ("under_min_age", "over_max_age", "diagnosed_at_death"))
    assert abs(len(hit) - published.numerator) <= excluded_small


def test_wales_biopsy_not_available_in_2024_25(indicators):
    rows = indicators[(indicators.indicator_id == "biopsy") & (indicators.period == "2024/25")
                      & (indicators.nation == "Wales")]
    assert len(rows) > 0
    assert (rows.status == "not_available").all()
    assert rows.numerator.isna().all() and rows.percentage.isna().all()
    cpes_wales = indicators[(indicators.indicator_id == "cpes_cns") & (indicators.nation == "Wales")]
    assert (cpes_wales.status == "not_available").all()


def test_reconciliation_balances(data_dir, output_dir):
    rec = pd.read_csv(data_dir / "naome_reconciliation.csv")
    published = rec[rec.status == "published"]
    assert (published.records_read == published.quarantined + published.excluded + published.included).all()
    assert (rec.balanced == "yes").all()
    # the unsuppressed counts (restricted) balance in every file, and withheld cells are exactly the small ones
    # and their partners
    full = pd.read_csv(output_dir / "restricted" / "quarantine" / "reconciliation.csv")
    assert (full.records_read == full.quarantined + full.excluded + full.included).all()
    counts = ["records_read", "quarantined", "excluded", "included"]
    assert not full[counts].where(rec[counts].notna()).isin([1, 2, 3, 4]).any().any()
    assert (rec[counts].isna().sum(axis=1).isin([0, 2])).all()


def test_synthetic_label_on_every_row(data_dir):
    meta = json.loads((data_dir / "naome_run.json").read_text())
    assert meta["synthetic"] is True
    for name in ("naome_indicators.csv", "naome_survival.csv", "naome_run_charts.csv"):
        assert (pd.read_csv(data_dir / name, low_memory=False).synthetic_data == "yes").all()


def test_published_survival_near_the_published_values(data_dir):
    surv = pd.read_csv(data_dir / "naome_survival.csv")
    dn = surv[(surv.level == "national") & (surv.group == "De novo")].set_index("time_years")
    assert abs(dn.loc[1, "survival_percentage"] - 65) < 2.5
    assert abs(dn.loc[3, "survival_percentage"] - 44) < 2.5


def test_a_stale_or_damaged_results_file_is_named_with_what_is_wrong(data_dir, tmp_path):
    import shutil

    from naome_report.hub import ResultsError, load_results

    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy)
    (copy / "naome_survival.csv").write_text(
        (copy / "naome_survival.csv").read_text().replace("at_risk", "patients_at_risk", 1))
    with pytest.raises(ResultsError, match=r"naome_survival\.csv: missing column\(s\) at_risk: .*--only data"):
        load_results(copy)
    (copy / "naome_survival.csv").unlink()
    with pytest.raises(ResultsError, match=r"naome_survival\.csv: results file missing"):
        load_results(copy)


def test_completeness_flags_name_the_data_item_with_its_acronyms(indicators):
    registry = load_registry()
    titles = {registry.get(i.completeness_from).title for i in registry if i.completeness_from}
    flags = indicators.completeness_flag.dropna().unique()
    assert len(flags) > 0
    for flag in flags:
        if flag.startswith("Low completeness of case-mix data: "):
            continue  # the case-mix items of adjusted outcomes: tests/hub/test_completeness.py
        # "Low completeness: ER and HER2 status recorded 42.9% ..." (never "er and her2")
        assert any(flag.startswith(f"Low completeness: {t} ") or flag.startswith(f"Low completeness: {t[0].lower()}{t[1:]} ")
                   for t in titles), flag
