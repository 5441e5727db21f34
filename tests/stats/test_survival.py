"""Tests for naome_report.stats.survival against independent oracles.

Oracles:
* R ``survival`` package output for the ``aml`` data (Miller 1981; R ``data(aml)``):
  - survival, n.risk and ``std.err`` of ``summary(survfit(Surv(time, status) ~ x, data=aml))``
    as published in the ``survival`` crate's ``test/r_expected_values.json`` (generated with
    R 4.5.2, survival 3.8.3; https://docs.rs/crate/survival/1.1.1/source/test/r_expected_values.json)
    and in the R-generated plot data of the psichomics ``plotSurvivalCurves`` reference page;
  - the ``conf.type="log-log"`` bounds from R 4.6.0 / survival 3.8.6 ``survfit`` as pinned
    in a public test suite of a Kaplan-Meier implementation (values transcribed below);
    the first step is also re-derived by hand in ``test_aml_first_step_by_hand``;
  - medians printed by ``print(survfit(...))``: 31 (Maintained), 23 (Nonmaintained), and
    R's exact-half rule: ``survfit(Surv(1:4, rep(1, 4)) ~ 1)`` median 2.5,
    ``survfit(Surv(1:6, c(1, 1, 1, 0, 0, 0)) ~ 1)`` median 3.
* Hand-worked examples with the arithmetic written out (ties, event and censoring at
  the same time, n = 1, no events, all events).
* lifelines ``KaplanMeierFitter`` (exponential Greenwood = log(-log) interval) as a
  second implementation on simulated data with heavy ties.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from naome_report.stats.survival import (
    REASON_NO_PATIENTS,
    REASON_SHORT_FOLLOW_UP,
    kaplan_meier,
    median_survival,
    survival_at,
    survival_by_group,
)

Z95 = 1.959963984540054  # Phi^-1(0.975)

# aml, Maintained group: 9, 13, 13+, 18, 23, 28+, 31, 34, 45+, 48, 161+
AML_M_TIME = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161]
AML_M_STATUS = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0]
# aml, Nonmaintained group: 5, 5, 8, 8, 12, 16+, 23, 27, 30, 33, 43, 45
AML_N_TIME = [5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
AML_N_STATUS = [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]

# R: summary(survfit(Surv(time, status) ~ x, data = aml, conf.type = "log-log"))
R_MAINTAINED = {
    "time": [9, 13, 18, 23, 31, 34, 48],
    "n.risk": [11, 10, 8, 7, 5, 4, 2],
    "surv": [0.90909090909090906, 0.81818181818181812, 0.71590909090909083, 0.61363636363636354,
             0.49090909090909085, 0.36818181818181817, 0.18409090909090908],
    "std.err": [0.08667841720414475, 0.11629129983033294, 0.13966497055722782, 0.152632331027312,
                0.16419326722113581, 0.16266888582709479, 0.15349274578629368],
    "lower": [0.50808020576992974, 0.44742861468218142, 0.35019038590793838, 0.26575204000128611,
              0.16733090977685081, 0.092829574936985182, 0.011738480123189602],
    "upper": [0.98667382266782311, 0.95116222858249166, 0.8990239741910534, 0.83529924325022142,
              0.75339979037081128, 0.6570408323981638, 0.52501484272664145],
}
R_NONMAINTAINED = {
    "time": [5, 8, 12, 23, 27, 30, 33, 43, 45],
    "n.risk": [12, 10, 8, 6, 5, 4, 3, 2, 1],
    "n.event": [2, 2, 1, 1, 1, 1, 1, 1, 1],
    "surv": [0.83333333333333337, 0.66666666666666674, 0.58333333333333337, 0.48611111111111116,
             0.38888888888888895, 0.29166666666666674, 0.19444444444444448, 0.097222222222222238, 0.0],
    "std.err": [0.1075828707279838, 0.13608276348795437, 0.14231876063832777, 0.14813006255348293,
                0.14698618394803281, 0.13871516913498738, 0.12187450538044615, 0.091866364967520514,
                np.nan],
    "lower": [0.48171494219537886, 0.33701893254140197, 0.27013892408549733, 0.19187661961872829,
              0.12627201219539366, 0.072401608907771836, 0.03119864293121194, 0.0057463056958638346,
              np.nan],
    "upper": [0.95550936572806489, 0.85971179908443984, 0.80094019233338687, 0.72967156977948544,
              0.64981740828931511, 0.56088605267140923, 0.46142947623811392, 0.34890386111074972,
              np.nan],
}
# R's default conf.type = "log" lower bounds for Maintained (docs.rs r_expected_values.json),
# shown to differ: the module deliberately uses log-log.
R_MAINTAINED_LOG_LOWER = [0.75413384508, 0.6192489874, 0.48842628742, 0.3768670595,
                          0.2548599512, 0.1548771179, 0.035917898489]


def _event_rows(km: pd.DataFrame) -> pd.DataFrame:
    return km[km["events"] > 0].reset_index(drop=True)


# ------------------------------------------------------------------ R reference


@pytest.mark.parametrize(
    "durations, status, ref",
    [(AML_M_TIME, AML_M_STATUS, R_MAINTAINED), (AML_N_TIME, AML_N_STATUS, R_NONMAINTAINED)],
    ids=["Maintained", "Nonmaintained"],
)
def test_aml_matches_r_survfit_loglog(durations, status, ref):
    km = _event_rows(kaplan_meier(durations, status))
    np.testing.assert_array_equal(km["time"], ref["time"])
    np.testing.assert_array_equal(km["at_risk"], ref["n.risk"])
    if "n.event" in ref:
        np.testing.assert_array_equal(km["events"], ref["n.event"])
    np.testing.assert_allclose(km["survival"], ref["surv"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(km["std_error"], ref["std.err"], rtol=1e-10)
    np.testing.assert_allclose(km["ci_lower"], ref["lower"], rtol=1e-9)
    np.testing.assert_allclose(km["ci_upper"], ref["upper"], rtol=1e-9)


def test_aml_censored_rows_and_not_r_default_log_interval():
    km = kaplan_meier(AML_M_TIME, AML_M_STATUS)
    # summary(fit, censored=TRUE): censored-only times 28, 45, 161 carry the curve forward.
    assert km["time"].tolist() == [9, 13, 18, 23, 28, 31, 34, 45, 48, 161]
    assert km["censored"].tolist() == [0, 1, 0, 0, 1, 0, 0, 1, 0, 1]
    assert km["at_risk"].tolist() == [11, 10, 8, 7, 6, 5, 4, 3, 2, 1]
    row28 = km.set_index("time").loc[28.0]
    assert row28["survival"] == pytest.approx(0.61363636363636354, rel=1e-12)
    # The log interval (R's default) is a different interval: check we are not producing it.
    lower = _event_rows(km)["ci_lower"].to_numpy()
    assert not np.allclose(lower, R_MAINTAINED_LOG_LOWER, rtol=1e-3)


def test_aml_first_step_by_hand():
    # t = 9: n = 11, d = 1. S = 10/11; Greenwood var(log S) = 1 / (11 * 10).
    s = 10 / 11
    v = 1 / (11 * 10)
    theta = math.sqrt(v) / math.log(s)
    lower = s ** math.exp(-Z95 * theta)
    upper = s ** math.exp(Z95 * theta)
    row = kaplan_meier(AML_M_TIME, AML_M_STATUS).iloc[0]
    assert row["survival"] == pytest.approx(s, rel=1e-14)
    assert row["std_error"] == pytest.approx(s * math.sqrt(v), rel=1e-12)
    assert row["ci_lower"] == pytest.approx(lower, rel=1e-12)
    assert row["ci_upper"] == pytest.approx(upper, rel=1e-12)
    assert lower == pytest.approx(0.508080, abs=1e-6)  # R, conf.type = "log-log"


def test_aml_medians_match_r():
    assert median_survival(AML_M_TIME, AML_M_STATUS) == 31.0
    assert median_survival(AML_N_TIME, AML_N_STATUS) == 23.0


def test_median_exact_half_rule_matches_r():
    # survfit(Surv(1:4, rep(1, 4)) ~ 1): S = 3/4, 1/2, 1/4, 0 -> median (2 + 3) / 2 = 2.5.
    assert median_survival([1, 2, 3, 4], [1, 1, 1, 1]) == 2.5
    # survfit(Surv(1:6, c(1, 1, 1, 0, 0, 0)) ~ 1): S = 1/2 from t = 3 with no later death -> 3.
    assert median_survival([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 0, 0]) == 3.0
    # survfit(Surv(c(1, 2, 2.5, 3, 4, 5), c(1, 1, 0, 1, 1, 1)) ~ 1): median 3.
    assert median_survival([1, 2, 2.5, 3, 4, 5], [1, 1, 0, 1, 1, 1]) == 3.0
    # t=1: n=8, d=2 -> 6/8; t=2: n=6, d=2 (2 censored) -> 6/8 * 4/6 = 1/2; t=3: n=2, d=1 -> 1/4.
    assert median_survival([1, 1, 2, 2, 2, 2, 3, 3], [1, 1, 1, 1, 0, 0, 1, 0]) == 2.5
    # One death a day among n: S(n/2) = 1/2 in exact arithmetic, but the floating-point product
    # is 0.5000000000000001 for n = 24 and 0.4999999999999999 for n = 34: still the midpoint.
    assert median_survival(np.arange(1, 25), np.ones(24)) == 12.5
    assert median_survival(np.arange(1, 35), np.ones(34)) == 17.5
    # t=1: n=8, d=1 -> 7/8; t=2: n=6, d=1 -> 35/48; t=3: n=5, d=1 (2 censored) -> 7/12;
    # t=4: n=2, d=1 -> 7/24 = 0.29 -> the first time at or below 1/2 is 4.
    assert median_survival([1, 1, 2, 3, 3, 3, 4, 4], [1, 0, 1, 0, 0, 1, 1, 0]) == 4.0


def test_median_not_reached_and_empty():
    assert math.isnan(median_survival([1, 2, 3, 4], [1, 0, 0, 0]))
    assert math.isnan(median_survival([], []))
    assert math.isnan(median_survival([5, 6], [0, 0]))


# ------------------------------------------------------------- hand-worked ties


def test_ties_event_and_censoring_at_same_time_by_hand():
    # t:  2  2  2+ 3  5  5+ 7+
    durations = [2, 2, 2, 3, 5, 5, 7]
    events = [1, 1, 0, 1, 1, 0, 0]
    km = kaplan_meier(durations, events)
    # Deaths come before censorings at a tied time: the patient censored at 2 is at risk at 2.
    # t=2: n=7, d=2, c=1 -> S = 5/7
    # t=3: n=4, d=1      -> S = 5/7 * 3/4 = 15/28
    # t=5: n=3, d=1, c=1 -> S = 15/28 * 2/3 = 5/14
    # t=7: n=1, c=1      -> S = 5/14
    assert km["time"].tolist() == [2, 3, 5, 7]
    assert km["at_risk"].tolist() == [7, 4, 3, 1]
    assert km["events"].tolist() == [2, 1, 1, 0]
    assert km["censored"].tolist() == [1, 0, 1, 1]
    np.testing.assert_allclose(km["survival"], [5 / 7, 15 / 28, 5 / 14, 5 / 14], rtol=1e-14)
    # Greenwood: 2/(7*5), + 1/(4*3), + 1/(3*2)
    v = np.cumsum([2 / 35, 1 / 12, 1 / 6])
    s = np.array([5 / 7, 15 / 28, 5 / 14])
    np.testing.assert_allclose(km["std_error"][:3], s * np.sqrt(v), rtol=1e-12)
    theta = np.sqrt(v) / np.log(s)
    np.testing.assert_allclose(km["ci_lower"][:3], s ** np.exp(-Z95 * theta), rtol=1e-12)
    np.testing.assert_allclose(km["ci_upper"][:3], s ** np.exp(Z95 * theta), rtol=1e-12)
    assert km["ci_lower"].iloc[3] == km["ci_lower"].iloc[2]


def test_order_of_input_does_not_matter():
    rng = np.random.default_rng(3)
    perm = rng.permutation(len(AML_N_TIME))
    a = kaplan_meier(AML_N_TIME, AML_N_STATUS)
    b = kaplan_meier(np.array(AML_N_TIME)[perm], np.array(AML_N_STATUS)[perm])
    pd.testing.assert_frame_equal(a, b)


def test_other_confidence_level_by_hand():
    z90 = 1.6448536269514722
    s, v = 10 / 11, 1 / 110
    theta = math.sqrt(v) / math.log(s)
    row = kaplan_meier(AML_M_TIME, AML_M_STATUS, confidence=0.90).iloc[0]
    assert row["ci_lower"] == pytest.approx(s ** math.exp(-z90 * theta), rel=1e-12)
    assert row["ci_upper"] == pytest.approx(s ** math.exp(z90 * theta), rel=1e-12)


def test_timeline_counts_since_previous_point():
    km = kaplan_meier(AML_M_TIME, AML_M_STATUS, timeline=[50, 10, 20, 0, 200, 20])
    assert km["time"].tolist() == [0, 10, 20, 50, 200]
    # at risk = durations >= t; deaths/censorings in (previous point, t], counted from the data:
    # (.,0]: none; (0,10]: death 9; (10,20]: deaths 13, 18 and censored 13;
    # (20,50]: deaths 23, 31, 34, 48, censored 28, 45; (50,200]: censored 161.
    assert km["at_risk"].tolist() == [11, 10, 7, 1, 0]
    assert km["events"].tolist() == [0, 1, 2, 4, 0]
    assert km["censored"].tolist() == [0, 0, 1, 2, 1]
    np.testing.assert_allclose(
        km["survival"][:4], [1.0, 10 / 11, R_MAINTAINED["surv"][2], R_MAINTAINED["surv"][6]], rtol=1e-12
    )
    assert (km["ci_lower"][0], km["ci_upper"][0]) == (1.0, 1.0)
    assert math.isnan(km["survival"][4])  # beyond the longest follow-up (161)


# ------------------------------------------------------------------ survival_at


def test_survival_at_values_and_counts():
    out = survival_at(AML_M_TIME, AML_M_STATUS, [0, 12, 31, 161, 200])
    assert list(out.columns) == [
        "time", "survival", "ci_lower", "ci_upper", "at_risk", "n",
        "events_total", "events_by_time", "reason",
    ]
    np.testing.assert_allclose(
        out["survival"][:4], [1.0, R_MAINTAINED["surv"][0], R_MAINTAINED["surv"][4], R_MAINTAINED["surv"][6]],
        rtol=1e-12,
    )
    np.testing.assert_allclose(out["ci_lower"][2], R_MAINTAINED["lower"][4], rtol=1e-9)
    assert out["at_risk"].tolist() == [11, 10, 5, 1, 0]
    assert out["n"].tolist() == [11] * 5
    assert out["events_total"].tolist() == [7] * 5
    assert out["events_by_time"].tolist() == [0, 1, 5, 7, 7]
    assert out["reason"].tolist()[:4] == [None] * 4
    assert out["reason"][4] == REASON_SHORT_FOLLOW_UP
    assert math.isnan(out["survival"][4]) and math.isnan(out["ci_lower"][4])


def test_survival_at_no_patients():
    out = survival_at([], [], [365, 1095])
    assert out["reason"].tolist() == [REASON_NO_PATIENTS] * 2
    assert out["survival"].isna().all() and out["ci_upper"].isna().all()
    assert out["n"].tolist() == [0, 0] and out["at_risk"].tolist() == [0, 0]


def test_survival_at_single_patient():
    died = survival_at([100], [1], [50, 100, 365])
    # S = 1 before the death; S = 1 - 1/1 = 0 from day 100 on, which stays estimable.
    assert died["survival"].tolist() == [1.0, 0.0, 0.0]
    assert died["reason"].tolist() == [None, None, None]
    assert (died["ci_lower"][0], died["ci_upper"][0]) == (1.0, 1.0)
    assert died[["ci_lower", "ci_upper"]].iloc[1:].isna().all().all()  # undefined at S = 0, as R
    censored = survival_at([100], [0], [50, 100, 365])
    assert censored["survival"].tolist()[:2] == [1.0, 1.0]
    assert censored["reason"].tolist() == [None, None, REASON_SHORT_FOLLOW_UP]
    assert censored["at_risk"].tolist() == [1, 1, 0]


def test_survival_at_no_events_and_all_events():
    none = survival_at([10, 20, 30], [0, 0, 0], [15, 30])
    assert none["survival"].tolist() == [1.0, 1.0]
    assert none["ci_lower"].tolist() == [1.0, 1.0] and none["ci_upper"].tolist() == [1.0, 1.0]
    assert none["events_total"].tolist() == [0, 0]
    every = survival_at([10, 20, 30], [1, 1, 1], [5, 15, 30, 400])
    # S = 1, 2/3, 0, 0 (0 carried beyond the last death: everyone has died).
    np.testing.assert_allclose(every["survival"], [1.0, 2 / 3, 0.0, 0.0])
    assert every["reason"].tolist() == [None] * 4
    # at t = 15: Greenwood var(log S) = 1/(3*2); log(-log) interval by hand
    s, v = 2 / 3, 1 / 6
    theta = math.sqrt(v) / math.log(s)
    assert every["ci_lower"][1] == pytest.approx(s ** math.exp(-Z95 * theta), rel=1e-12)
    assert every["ci_upper"][1] == pytest.approx(s ** math.exp(Z95 * theta), rel=1e-12)


def test_survival_at_time_zero_deaths_and_exact_boundary():
    # Two deaths on day 0: S(0) = 1 - 2/4 = 1/2; at t = max follow-up (censored) still estimable.
    out = survival_at([0, 0, 5, 9], [1, 1, 0, 0], [0, 9, 9.5])
    assert out["survival"].tolist()[:2] == [0.5, 0.5]
    assert out["at_risk"].tolist() == [4, 1, 0]
    assert out["reason"].tolist() == [None, None, REASON_SHORT_FOLLOW_UP]


@pytest.mark.parametrize(
    "durations, events, message",
    [
        ([1, -2], [1, 1], "non-negative"),
        ([1, np.nan], [1, 1], "finite"),
        ([1, 2], [1, 2], "0/1"),
        ([1, 2], [1, np.nan], "0/1"),
        ([1, 2, 3], [1, 1], "differ in length"),
    ],
)
def test_invalid_input(durations, events, message):
    with pytest.raises(ValueError, match=message):
        kaplan_meier(durations, events)


def test_invalid_times_and_confidence():
    with pytest.raises(ValueError, match="times"):
        survival_at([1, 2], [1, 0], [-1])
    with pytest.raises(ValueError, match="confidence"):
        survival_at([1, 2], [1, 0], [1], confidence=95)


# ---------------------------------------------------------------- lifelines oracle


def _simulated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    death = np.ceil(rng.exponential(700, n))
    cut = np.ceil(rng.uniform(30, 1500, n))
    return np.minimum(death, cut), (death <= cut).astype(int)  # ties: death before censoring


def test_against_lifelines_kaplan_meier_fitter():
    durations, events = _simulated(3000, seed=11)
    kmf = KaplanMeierFitter(alpha=0.05).fit(durations, events)
    ours = kaplan_meier(durations, events).set_index("time")
    table = kmf.event_table.drop(index=0.0, errors="ignore")
    table = table[table["removed"] > 0]
    np.testing.assert_array_equal(ours.index.to_numpy(), table.index.to_numpy())
    np.testing.assert_array_equal(ours["at_risk"], table["at_risk"])
    np.testing.assert_array_equal(ours["events"], table["observed"])
    np.testing.assert_array_equal(ours["censored"], table["censored"])
    sf = kmf.survival_function_["KM_estimate"].loc[ours.index]
    np.testing.assert_allclose(ours["survival"], sf, rtol=1e-10)
    ci = kmf.confidence_interval_.loc[ours.index]
    finite = ours["survival"].between(0, 1, inclusive="neither")
    np.testing.assert_allclose(ours.loc[finite, "ci_lower"], ci.loc[finite, "KM_estimate_lower_0.95"], rtol=1e-8)
    np.testing.assert_allclose(ours.loc[finite, "ci_upper"], ci.loc[finite, "KM_estimate_upper_0.95"], rtol=1e-8)
    times = np.array([0.0, 1.0, 182.5, 365.25, 730.5, 1095.75, float(durations.max())])
    at = survival_at(durations, events, times)
    np.testing.assert_allclose(at["survival"], kmf.survival_function_at_times(times).to_numpy(), rtol=1e-10)
    assert median_survival(durations, events) == kmf.median_survival_time_


# -------------------------------------------------------------- survival_by_group


def test_by_group_each_group_matches_lifelines_and_all_row():
    durations, events = _simulated(2000, seed=5)
    rng = np.random.default_rng(6)
    groups = rng.choice(["RX1", "RX2", "7A1"], durations.size, p=[0.5, 0.3, 0.2])
    times = [365.0, 1095.0]
    out = survival_by_group(durations, events, groups, times)
    assert out["group"].tolist() == ["7A1", "7A1", "RX1", "RX1", "RX2", "RX2", "All", "All"]
    for label in ["7A1", "RX1", "RX2", "All"]:
        mask = np.ones(durations.size, bool) if label == "All" else groups == label
        kmf = KaplanMeierFitter().fit(durations[mask], events[mask])
        rows = out[out["group"] == label]
        np.testing.assert_allclose(rows["survival"], kmf.survival_function_at_times(times), rtol=1e-10)
        ci = kmf.confidence_interval_
        for t_, (_, row) in zip(times, rows.iterrows()):
            last = ci.loc[ci.index <= t_].iloc[-1]
            assert row["ci_lower"] == pytest.approx(last.iloc[0], rel=1e-8)
            assert row["ci_upper"] == pytest.approx(last.iloc[1], rel=1e-8)
            assert row["at_risk"] == int((durations[mask] >= t_).sum())
            assert row["events_by_time"] == int(events[mask][durations[mask] <= t_].sum())
        assert (rows["n"] == mask.sum()).all()
        assert (rows["events_total"] == events[mask].sum()).all()


def test_by_group_empty_category_missing_label_and_reserved_name():
    durations = [10, 20, 30, 40, 50]
    events = [1, 0, 1, 1, 0]
    groups = pd.Categorical(["B", "A", None, "A", "B"], categories=["A", "B", "C"])
    out = survival_by_group(durations, events, groups, [25])
    assert out["group"].tolist() == ["A", "B", "C", "All"]
    assert out["n"].tolist() == [2, 2, 0, 5]  # the unlabelled patient counts in All only
    assert out["reason"].tolist() == [None, None, REASON_NO_PATIENTS, None]
    # A: 20+, 40 -> S(25) = 1; B: 10, 50+ -> S(25) = 1/2; All: 10 (n=5) -> 4/5 at 25
    assert out["survival"][0] == 1.0
    assert out["survival"][1] == 0.5
    assert math.isnan(out["survival"][2])
    assert out["survival"][3] == pytest.approx(4 / 5)
    with pytest.raises(ValueError, match="All"):
        survival_by_group(durations, events, ["All", "x", "x", "x", "x"], [25])
    with pytest.raises(ValueError, match="groups"):
        survival_by_group(durations, events, ["x"], [25])


def test_by_group_is_fast_for_a_national_cohort():
    rng = np.random.default_rng(2024)
    n = 50_000
    durations, events = _simulated(n, seed=1)
    org = rng.integers(0, 150, n).astype(str)
    subgroup = rng.choice(["ER+/HER2-", "HER2+", "TN", "Unknown"], n)
    groups = np.char.add(np.char.add(org, " "), subgroup)
    start = time.perf_counter()
    out = survival_by_group(durations, events, groups, [365.25, 730.5, 1095.75])
    elapsed = time.perf_counter() - start
    assert len(out) == (len(np.unique(groups)) + 1) * 3
    assert elapsed < 1.0, f"survival_by_group took {elapsed:.2f} s"
