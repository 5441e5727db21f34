"""naome_survival_comparison.csv: England and Wales compared with the log-rank test, checked with lifelines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines.statistics import logrank_test

from naome_report.cohort import derive_cohort
from naome_report.config import load_config
from naome_report.ingest.validate import validate_extract
from naome_report.organisations import load_organisations


@pytest.fixture(scope="module")
def comparison(data_dir):
    return pd.read_csv(data_dir / "naome_survival_comparison.csv", keep_default_na=False, na_values=[""])


def test_counts_equal_the_nation_rows_of_the_survival_file(comparison, data_dir):
    survival = pd.read_csv(data_dir / "naome_survival.csv", keep_default_na=False, na_values=[""])
    # Patients and deaths are the same at every time point of a group; a row suppressed for its small number
    # at risk at one time point is published at another.
    nation = (survival[(survival.level == "nation") & survival.patients.notna()]
              .drop_duplicates(["group_type", "group", "org_name"]))
    merged = comparison.merge(nation, left_on=["group_type", "group", "nation"], right_on=["group_type", "group", "org_name"],
                              suffixes=("", "_surv"))
    # One row per nation for: all patients, the two routes, each configured subtype and Unknown.
    groups = 1 + 2 + len(load_config().section("code_lists")["subtypes"]) + 1
    assert len(merged) == len(comparison) == 2 * groups
    assert (merged.patients == merged.patients_surv).all() and (merged.deaths == merged.deaths_surv).all()


def test_log_rank_matches_lifelines(comparison):
    config = load_config()
    orgs = load_organisations(config, synthetic=True)
    cohort = derive_cohort(validate_extract(config.extract_dir, orgs, config.data_cutoff).frames, config)
    pts = cohort.patients
    nation = pts.diagnosing_org.map(orgs.set_index("org_code").nation)
    wales = (nation == "Wales").to_numpy()
    for group, members in (("All", np.ones(len(pts), bool)), ("De novo", (pts.route == "de_novo").to_numpy()),
                           ("Triple negative", (pts.subtype == "Triple negative").to_numpy())):
        t, e = pts.survival_days.to_numpy()[members], pts.died.to_numpy()[members]
        w = wales[members]
        oracle = logrank_test(t[~w], t[w], e[~w], e[w])
        row = comparison[comparison.group == group].iloc[0]
        assert row.chi_squared == pytest.approx(oracle.test_statistic, rel=1e-5)
        assert row.p_value == pytest.approx(oracle.p_value, rel=1e-4)
        assert row.difference_beyond_chance == ("yes" if oracle.p_value < 0.05 else "no")
    observed = comparison.deaths.sum()
    assert comparison.expected_deaths.sum() == pytest.approx(observed, rel=1e-5)
