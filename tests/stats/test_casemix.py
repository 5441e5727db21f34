"""Tests for naome_report.stats.casemix against independent oracles.

Oracles:
* simulation with known coefficients (large n, fixed seed): estimates within 4 standard errors;
* a direct ``statsmodels.api.Logit`` fit on a design matrix built by hand in the test, and
  ``statsmodels.formula.api.logit`` on the model's own ``formula`` string (patsy coding);
* properties of the logistic maximum-likelihood fit with an intercept: expected events summed
  over everyone (and over every level of every categorical covariate) equal observed events;
* c-statistic: hand-counted concordant pairs and ``scipy.stats.mannwhitneyu`` U / (n1 n0);
* calibration and Hosmer-Lemeshow: hand-worked arithmetic, chi-square tail from scipy;
* O/E intervals: exact limits found by inverting the Poisson distribution function
  (``scipy.stats.poisson`` + root finding, not the chi-square shortcut the module uses);
  the published 95% upper limit 3.689 for a count of 0 (epitools ``pois.exact`` documentation);
  Byar's formula written out by hand; the worked example of the ``byar`` Ruby gem
  (O = 100, E = 90 -> 0.9040199067337297, 1.3514260807978444, with z = 1.96);
  and Byar within 0.2% of exact for counts of 10 or more at 95% (PHE Public Health Data
  Science, Technical Guide: Confidence Intervals, 2018, Appendix 1).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import optimize, stats

from naome_report.stats.casemix import (
    UNKNOWN_LEVEL,
    CasemixError,
    CasemixModel,
    c_statistic,
    calibration_by_decile,
    fit_casemix_model,
    hosmer_lemeshow,
    observed_expected,
    oe_ratio_interval,
)

AGE_EFFECT = {"<50": -0.4, "50-69": 0.0, "70-79": 0.5, "80+": 1.1}
PS_EFFECT = {0: 0.0, 1: 0.4, 2: 1.0, 3: 1.8}
PS_MISSING_EFFECT = 0.7
MALE_EFFECT = 0.5
X_EFFECT = 0.3
INTERCEPT = -3.0


def _simulate(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.choice(list(AGE_EFFECT), n, p=[0.2, 0.4, 0.25, 0.15])
    sex = rng.choice(["F", "M"], n, p=[0.9, 0.1])
    ps = rng.choice([0, 1, 2, 3, np.nan], n, p=[0.3, 0.3, 0.2, 0.1, 0.1])
    x = rng.normal(size=n)
    lp = (
        INTERCEPT
        + pd.Series(age).map(AGE_EFFECT).to_numpy()
        + pd.Series(ps).map(PS_EFFECT).fillna(PS_MISSING_EFFECT).to_numpy()
        + MALE_EFFECT * (sex == "M")
        + X_EFFECT * x
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(float)
    return pd.DataFrame({"died30": y, "age": age, "sex": sex, "ps": ps, "x": x})


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    data = _simulate(40_000, seed=2024)
    data.loc[data.index[:40], "died30"] = np.nan  # some outcomes not recorded
    return data


@pytest.fixture(scope="module")
def model(sim: pd.DataFrame) -> CasemixModel:
    return fit_casemix_model(
        sim, "died30", ["age", "sex", "ps", "x"], categorical=["age", "sex", "ps"],
        reference_levels={"age": "50-69", "sex": "F", "ps": "0"},
    )


def _coef(model: CasemixModel) -> pd.Series:
    return model.coefficients.set_index("term")["estimate"]


# -------------------------------------------------------------------- the model


def test_recovers_simulated_coefficients(model: CasemixModel):
    coef = model.coefficients.set_index("term")
    truth = {
        "Intercept": INTERCEPT,
        "age[T.<50]": AGE_EFFECT["<50"],
        "age[T.70-79]": AGE_EFFECT["70-79"],
        "age[T.80+]": AGE_EFFECT["80+"],
        "sex[T.M]": MALE_EFFECT,
        "ps[T.1]": PS_EFFECT[1],
        "ps[T.2]": PS_EFFECT[2],
        "ps[T.3]": PS_EFFECT[3],
        f"ps[T.{UNKNOWN_LEVEL}]": PS_MISSING_EFFECT,
        "x": X_EFFECT,
    }
    assert sorted(coef.index) == sorted(truth)
    for term, value in truth.items():
        est, se = coef.loc[term, "estimate"], coef.loc[term, "std_error"]
        assert abs(est - value) < 4 * se, (term, est, value, se)
        assert se < 0.1


def test_equals_direct_logit_on_hand_built_design(sim: pd.DataFrame, model: CasemixModel):
    d = sim[sim["died30"].notna()]
    ps = d["ps"].to_numpy()
    columns = {
        "Intercept": np.ones(len(d)),
        "age[T.<50]": (d["age"] == "<50").to_numpy(float),
        "age[T.70-79]": (d["age"] == "70-79").to_numpy(float),
        "age[T.80+]": (d["age"] == "80+").to_numpy(float),
        "sex[T.M]": (d["sex"] == "M").to_numpy(float),
        "ps[T.1]": (ps == 1).astype(float),
        "ps[T.2]": (ps == 2).astype(float),
        "ps[T.3]": (ps == 3).astype(float),
        "ps[T.Unknown]": np.isnan(ps).astype(float),
        "x": d["x"].to_numpy(),
    }
    X = np.column_stack(list(columns.values()))
    direct = sm.Logit(d["died30"].to_numpy(), X).fit(disp=0, tol=1e-12, maxiter=100)
    coef = model.coefficients.set_index("term").loc[list(columns)]
    np.testing.assert_allclose(coef["estimate"], direct.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(coef["std_error"], direct.bse, rtol=1e-5)
    np.testing.assert_allclose(coef["p_value"], direct.pvalues, rtol=1e-4, atol=1e-300)
    np.testing.assert_allclose(coef["odds_ratio"], np.exp(direct.params), rtol=1e-6)
    ci = np.exp(direct.conf_int(alpha=0.05))
    np.testing.assert_allclose(coef["or_ci_lower_95"], ci[:, 0], rtol=1e-5)
    np.testing.assert_allclose(coef["or_ci_upper_95"], ci[:, 1], rtol=1e-5)
    kept = sim["died30"].notna().to_numpy()
    np.testing.assert_allclose(model.predicted[kept], direct.predict(X), rtol=1e-6)
    assert np.isnan(model.predicted[~kept]).all() and (~kept).sum() == 40
    assert model.n == len(d) and model.events == int(d["died30"].sum())
    assert model.converged


def test_formula_string_reproduces_the_fit(sim: pd.DataFrame, model: CasemixModel):
    d = sim[sim["died30"].notna()].copy()
    d["ps"] = d["ps"].map(lambda v: UNKNOWN_LEVEL if np.isnan(v) else str(int(v)))
    assert model.formula == (
        "died30 ~ C(age, Treatment(reference='50-69')) + C(sex, Treatment(reference='F'))"
        " + C(ps, Treatment(reference='0')) + x"
    )
    via_formula = smf.logit(model.formula, d).fit(disp=0, tol=1e-12)
    ours = _coef(model)
    assert via_formula.params["C(ps, Treatment(reference='0'))[T.Unknown]"] == pytest.approx(
        ours["ps[T.Unknown]"], rel=1e-6
    )
    assert via_formula.params["x"] == pytest.approx(ours["x"], rel=1e-6)
    assert via_formula.params["Intercept"] == pytest.approx(ours["Intercept"], rel=1e-6)


def test_expected_equals_observed_overall_and_within_levels(sim: pd.DataFrame, model: CasemixModel):
    # Score equations of the logistic MLE: sum(y - p) * x_j = 0 for every column, so the
    # intercept gives sum p = sum y and each dummy gives the same within its level.
    kept = sim["died30"].notna().to_numpy()
    y, p = sim["died30"].to_numpy()[kept], model.predicted[kept]
    assert p.sum() == pytest.approx(y.sum(), rel=1e-8)
    for cov in ["age", "sex", "ps"]:
        levels = sim[cov].astype(object).where(sim[cov].notna(), "missing").to_numpy()[kept]
        for level in np.unique(levels.astype(str)):
            mask = levels.astype(str) == level
            assert p[mask].sum() == pytest.approx(y[mask].sum(), rel=1e-7), (cov, level)
    national = observed_expected(y, p, np.zeros(y.size))
    assert national["oe_ratio"].iloc[0] == pytest.approx(1.0, rel=1e-8)


def test_model_diagnostics_agree_with_stand_alone_functions(sim: pd.DataFrame, model: CasemixModel):
    kept = sim["died30"].notna().to_numpy()
    y, p = sim["died30"].to_numpy()[kept], model.predicted[kept]
    u = stats.mannwhitneyu(p[y == 1], p[y == 0]).statistic
    assert model.c_statistic == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()), rel=1e-12)
    assert 0.6 < model.c_statistic < 0.9
    assert list(model.calibration.columns) == [
        "decile", "n", "observed", "expected", "observed_rate", "expected_rate",
    ]
    assert model.calibration["n"].sum() == model.n
    assert model.calibration["observed"].sum() == model.events
    assert model.hosmer_lemeshow.df == 8
    assert model.hosmer_lemeshow.p_value > 0.001  # the model is the true model


def test_default_reference_is_most_frequent_and_numbers_label_as_integers():
    rng = np.random.default_rng(7)
    n = 4000
    data = pd.DataFrame(
        {
            "y": (rng.random(n) < 0.2).astype(int),
            "quintile": rng.choice([1.0, 2.0, 3.0, 4.0, 5.0, np.nan], n, p=[0.1, 0.1, 0.4, 0.15, 0.15, 0.1]),
            "sex": rng.choice(["F", "M"], n, p=[0.8, 0.2]),
        }
    )
    with pytest.raises(CasemixError, match="numeric covariate 'quintile' has 400"):
        # a float column is numeric by default, and its missing values are refused, not imputed
        fit_casemix_model(data.assign(quintile=np.r_[np.full(400, np.nan), data["quintile"][400:].fillna(3)]),
                          "y", ["quintile", "sex"])
    m = fit_casemix_model(data, "y", ["quintile", "sex"], categorical=["quintile", "sex"])
    terms = m.coefficients["term"].tolist()
    assert terms == [
        "Intercept", "quintile[T.1]", "quintile[T.2]", "quintile[T.4]", "quintile[T.5]",
        "quintile[T.Unknown]", "sex[T.M]",
    ]
    m2 = fit_casemix_model(data, "y", ["quintile", "sex"], categorical=["quintile", "sex"],
                           reference_levels={"quintile": 1})
    assert "quintile[T.3]" in m2.coefficients["term"].tolist()
    assert "reference='1'" in m2.formula
    # Same model, different reference: identical predictions.
    np.testing.assert_allclose(m.predicted, m2.predicted, rtol=1e-8)


def test_missing_categorical_is_its_own_level_and_matches_explicit_unknown():
    rng = np.random.default_rng(8)
    n = 3000
    stage = rng.choice(["I", "II", None], n, p=[0.5, 0.3, 0.2])
    y = (rng.random(n) < np.where(stage == None, 0.3, 0.15)).astype(int)  # noqa: E711
    with_none = pd.DataFrame({"y": y, "stage": stage})
    spelled = pd.DataFrame({"y": y, "stage": np.where(stage == None, "Unknown", stage)})  # noqa: E711
    a = fit_casemix_model(with_none, "y", ["stage"])
    b = fit_casemix_model(spelled, "y", ["stage"])
    pd.testing.assert_frame_equal(a.coefficients, b.coefficients)
    # One categorical covariate: fitted probabilities are the observed level rates.
    for level in ["I", "II", None]:
        mask = stage == level if level is not None else stage == None  # noqa: E711
        np.testing.assert_allclose(a.predicted[mask], y[mask].mean(), rtol=1e-8)


def test_boolean_and_categorical_dtype_levels():
    rng = np.random.default_rng(9)
    n = 2000
    data = pd.DataFrame(
        {
            "y": rng.random(n) < 0.25,
            "denovo": rng.random(n) < 0.4,
            "ps": pd.Categorical(rng.choice(["0-1", "2", "3-4"], n), categories=["0-1", "2", "3-4"]),
        }
    )
    m = fit_casemix_model(data, "y", ["denovo", "ps"], reference_levels={"ps": "0-1"})
    assert m.coefficients["term"].tolist() == ["Intercept", "denovo[T.True]", "ps[T.2]", "ps[T.3-4]"]
    assert m.events == int(data["y"].sum())


def test_numeric_covariates_on_large_scales_are_not_mistaken_for_separation():
    # Calendar year as a numeric term makes the intercept about -0.27 * 2021 = -540.
    rng = np.random.default_rng(3)
    n = 20_000
    data = pd.DataFrame({
        "year": rng.choice([2020, 2021, 2022], n),
        "age": rng.normal(65, 12, n),
        "ps": pd.array(rng.choice([0, 1, 2], n), dtype="Int64"),
    })
    lp = -4 + 0.04 * (data["age"] - 65) + 0.2 * (data["year"] - 2021)
    data["y"] = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    m = fit_casemix_model(data, "y", ["year", "age", "ps"])
    X = np.column_stack([np.ones(n), data["year"], data["age"], data["ps"].to_numpy(float)])
    direct = sm.Logit(data["y"].to_numpy(), X).fit(disp=0, tol=1e-10, maxiter=200)
    np.testing.assert_allclose(m.coefficients["estimate"], direct.params, rtol=1e-6)
    assert m.coefficients["estimate"][0] < -100
    data.loc[5, "ps"] = pd.NA
    with pytest.raises(CasemixError, match="numeric covariate 'ps' has 1 missing"):
        fit_casemix_model(data, "y", ["year", "age", "ps"])


# -------------------------------------------------------------- model failures


def _small(seed: int = 1, n: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "y": (rng.random(n) < 0.3).astype(float),
            "age": rng.choice(["<70", "70+"], n),
            "x": rng.normal(size=n),
        }
    )


def test_level_without_events_is_perfect_separation_named():
    data = _small()
    data["site"] = np.where(np.arange(len(data)) < 20, "brain", "bone")
    data.loc[data["site"] == "brain", "y"] = 0.0
    with pytest.raises(CasemixError, match=r"'site'.*separation.*brain"):
        fit_casemix_model(data, "y", ["age", "site"])
    data.loc[data["site"] == "brain", "y"] = 1.0
    with pytest.raises(CasemixError, match=r"'site'.*every patient.*brain"):
        fit_casemix_model(data, "y", ["age", "site"])


def test_empty_declared_level_is_an_error():
    data = _small()
    data["age"] = pd.Categorical(data["age"], categories=["<70", "70+", "90+"])
    with pytest.raises(CasemixError, match=r"'age'.*90\+.*no patients"):
        fit_casemix_model(data, "y", ["age"])


def test_level_only_among_missing_outcomes_is_empty():
    data = _small()
    data["age"] = pd.Categorical(data["age"], categories=["<70", "70+", "90+"])
    extra = pd.DataFrame({"y": [np.nan], "age": pd.Categorical(["90+"], categories=["<70", "70+", "90+"]), "x": [0.0]})
    with pytest.raises(CasemixError, match="90"):
        fit_casemix_model(pd.concat([data, extra], ignore_index=True), "y", ["age"])


@pytest.mark.parametrize(
    "mutate, kwargs, pattern",
    [
        (lambda d: d, {"reference_levels": {"age": "60-69"}}, r"'age'.*reference level '60-69'"),
        (lambda d: d.assign(age="<70"), {}, r"'age'.*single level"),
        (lambda d: d.assign(x=np.where(np.arange(len(d)) == 3, np.nan, d["x"])), {}, r"'x'.*1 missing"),
        (lambda d: d.assign(x=2.0), {}, r"'x' is constant"),
        (lambda d: d.assign(y=0.0), {}, r"no patient has the outcome"),
        (lambda d: d.assign(y=np.where(np.arange(len(d)) % 2, 2.0, 0.0)), {}, r"must be 0/1"),
        (lambda d: d.assign(y="dead"), {}, r"must be 0/1"),
        (lambda d: d.assign(y=np.nan), {}, r"no rows with a recorded outcome"),
        (lambda d: d.assign(x2=2 * d["x"] + 1), {"covariates": ["age", "x", "x2"]}, r"\['x', 'x2'\] are collinear"),
        (lambda d: d.assign(a2=d["age"]), {"covariates": ["age", "a2", "x"]}, r"\['a2', 'age'\] are collinear"),
        (lambda d: d, {"covariates": ["age", "nope"]}, r"'nope'.*not in the data"),
        (lambda d: d, {"categorical": ["x", "zz"]}, r"'zz'.*not covariates"),
        (lambda d: d, {"reference_levels": {"x": "1"}}, r"non-categorical"),
    ],
)
def test_invalid_models_raise_clear_errors(mutate, kwargs, pattern):
    data = mutate(_small())
    covariates = kwargs.pop("covariates", ["age", "x"])
    with pytest.raises(CasemixError, match=pattern):
        fit_casemix_model(data, "y", covariates, **kwargs)


def test_complete_separation_by_numeric_covariate():
    data = _small(n=300)
    data["y"] = (data["x"] > 0.1).astype(float)
    with pytest.raises(CasemixError, match=r"separation"):
        fit_casemix_model(data, "y", ["age", "x"])


def test_quasi_separation_by_numeric_covariate():
    # y = 0 below x = 0, y = 1 above, both at x = 0: the MLE of the slope is infinite.
    x = np.repeat(np.arange(-3, 4), 20).astype(float)
    y = np.where(x > 0, 1.0, 0.0)
    y[(x == 0) & (np.arange(x.size) % 2 == 0)] = 1.0
    data = pd.DataFrame({"y": y, "x": x})
    with pytest.raises(CasemixError, match=r"'x'.*separation|separation"):
        fit_casemix_model(data, "y", ["x"])


# ------------------------------------------------------------------ c-statistic


def test_c_statistic_hand_worked():
    # positives 0.35, 0.8; negatives 0.1, 0.4: pairs (0.35>0.1) yes, (0.35>0.4) no,
    # (0.8>0.1) yes, (0.8>0.4) yes -> 3 of 4 concordant.
    assert c_statistic([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(3 / 4)
    # ties count one half: positives 0.2, 0.9; negatives 0.2, 0.5:
    # (0.2 vs 0.2) 1/2, (0.2 vs 0.5) 0, (0.9 vs 0.2) 1, (0.9 vs 0.5) 1 -> 2.5 / 4
    assert c_statistic([0, 1, 0, 1], [0.2, 0.2, 0.5, 0.9]) == pytest.approx(2.5 / 4)
    assert c_statistic([1, 0], [0.9, 0.1]) == 1.0
    assert c_statistic([1, 0], [0.1, 0.9]) == 0.0


def test_c_statistic_against_mannwhitneyu_with_ties_and_missing():
    rng = np.random.default_rng(4)
    y = (rng.random(5000) < 0.2).astype(float)
    p = np.round(np.clip(0.2 + 0.1 * y + rng.normal(0, 0.1, y.size), 0, 1), 2)  # many ties
    u = stats.mannwhitneyu(p[y == 1], p[y == 0]).statistic
    expected = u / ((y == 1).sum() * (y == 0).sum())
    y_missing = y.copy()
    y_missing[:3] = np.nan
    p_missing = p.copy()
    p_missing[3:6] = np.nan
    assert c_statistic(y, p) == pytest.approx(expected, rel=1e-12)
    keep = ~(np.isnan(y_missing) | np.isnan(p_missing))
    u2 = stats.mannwhitneyu(p[keep][y[keep] == 1], p[keep][y[keep] == 0]).statistic
    assert c_statistic(y_missing, p_missing) == pytest.approx(
        u2 / ((y[keep] == 1).sum() * (y[keep] == 0).sum()), rel=1e-12
    )


def test_c_statistic_undefined_with_one_class_or_empty():
    assert math.isnan(c_statistic([1, 1, 1], [0.2, 0.3, 0.4]))
    assert math.isnan(c_statistic([0, 0], [0.2, 0.3]))
    assert math.isnan(c_statistic([], []))
    with pytest.raises(ValueError):
        c_statistic([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError):
        c_statistic([0, 1], [0.1, 1.2])


# ------------------------------------------------------- calibration and HL test


def test_calibration_by_decile_hand_worked():
    p = np.arange(1, 21) / 20  # 0.05, 0.10, ..., 1.00
    y = np.array([0, 0,  0, 0,  0, 1,  1, 0,  0, 0,  0, 1,  1, 0,  1, 0,  1, 1,  1, 1])  # noqa: E241
    rng = np.random.default_rng(0)
    perm = rng.permutation(20)  # order of rows must not matter
    cal = calibration_by_decile(y[perm], p[perm])
    assert cal["decile"].tolist() == list(range(1, 11))
    assert cal["n"].tolist() == [2] * 10
    # decile k holds p = (2k-1)/20 and 2k/20
    assert cal["observed"].tolist() == [0, 0, 1, 1, 0, 1, 1, 1, 2, 2]
    expected = [((2 * k - 1) + 2 * k) / 20 for k in range(1, 11)]
    np.testing.assert_allclose(cal["expected"], expected)
    np.testing.assert_allclose(cal["observed_rate"], np.array([0, 0, 1, 1, 0, 1, 1, 1, 2, 2]) / 2)
    np.testing.assert_allclose(cal["expected_rate"], np.array(expected) / 2)


def test_calibration_keeps_ties_together():
    cal = calibration_by_decile([0, 1, 0, 1, 1, 0], [0.3] * 6)
    assert cal["n"].tolist() == [6]
    assert cal["observed"].tolist() == [3]
    assert cal["expected"].tolist() == pytest.approx([1.8])
    cal = calibration_by_decile([0, 1, 0, 1], [0.2, 0.2, 0.2, 0.6], groups=2)
    assert cal["n"].tolist() == [3, 1]
    assert calibration_by_decile([], []).empty


def test_hosmer_lemeshow_hand_worked():
    p = [0.1, 0.1, 0.1, 0.4, 0.4, 0.4, 0.7, 0.7, 0.7]
    y = [0, 0, 1, 0, 1, 1, 1, 1, 1]
    # Three groups of three: O = 1, 2, 3; E = 0.3, 1.2, 2.1; n = 3.
    # Each group: (O-E)^2/E + (O-E)^2/(n-E).
    terms = [
        0.7**2 / 0.3 + 0.7**2 / 2.7,
        0.8**2 / 1.2 + 0.8**2 / 1.8,
        0.9**2 / 2.1 + 0.9**2 / 0.9,
    ]
    statistic = sum(terms)  # 1.814815 + 0.888889 + 1.285714 = 3.989418
    hl = hosmer_lemeshow(y, p, groups=3)
    assert hl.statistic == pytest.approx(statistic, rel=1e-12)
    assert hl.statistic == pytest.approx(3.989418, abs=1e-6)
    assert hl.df == 1
    assert hl.p_value == pytest.approx(stats.chi2.sf(statistic, 1), rel=1e-12)
    # 1 - Phi: the chi-square(1) tail equals the two-sided normal tail of sqrt(statistic)
    assert hl.p_value == pytest.approx(math.erfc(math.sqrt(statistic / 2)), rel=1e-10)


def test_hosmer_lemeshow_too_few_groups():
    hl = hosmer_lemeshow([0, 1, 1], [0.5, 0.5, 0.5])
    assert math.isnan(hl.statistic) and math.isnan(hl.p_value)


# --------------------------------------------------------------- O/E by group


def test_observed_expected_hand_worked():
    outcome = [1, 0, 0, 1, 1, 0, np.nan, 1]
    predicted = [0.5, 0.2, 0.3, 0.4, 0.6, 0.5, 0.9, 0.3]
    groups = ["A", "A", "A", "B", "B", "B", "B", None]
    out = observed_expected(outcome, predicted, groups)
    # Rows used: all but the missing outcome; national rate = 4 deaths / 7 patients.
    # A: O = 1, E = 0.5 + 0.2 + 0.3 = 1.0; B: O = 2, E = 0.4 + 0.6 + 0.5 = 1.5.
    national = 4 / 7
    assert out["group"].tolist() == ["A", "B"]
    assert out["n"].tolist() == [3, 3]
    assert out["observed"].tolist() == [1, 2]
    np.testing.assert_allclose(out["expected"], [1.0, 1.5])
    np.testing.assert_allclose(out["oe_ratio"], [1.0, 2 / 1.5])
    np.testing.assert_allclose(out["adjusted_rate"], [1.0 * national, 2 / 1.5 * national])
    # exact Poisson limits for O = 1: chi2(0.025; 2)/2 and chi2(0.975; 4)/2
    lo_a = -math.log(1 - 0.025)  # chi-square with 2 df: quantile q -> -2 log(1 - q); halved
    assert out["oe_ci_lower"][0] == pytest.approx(lo_a / 1.0, rel=1e-10)
    assert out["adjusted_rate_ci_lower"][0] == pytest.approx(lo_a * national, rel=1e-10)
    assert out["oe_ci_upper"][1] == pytest.approx(_exact_upper(2) / 1.5, rel=1e-8)


def test_observed_expected_empty():
    out = observed_expected([], [], [])
    assert out.empty and "oe_ratio" in out.columns


# ------------------------------------------------------------------ O/E CIs


def _exact_lower(o: int, confidence: float = 0.95) -> float:
    """Mean mu with P(X >= o | mu) = alpha/2, by root finding on the Poisson cdf."""
    if o == 0:
        return 0.0
    a = (1 - confidence) / 2
    return optimize.brentq(lambda mu: stats.poisson.sf(o - 1, mu) - a, 1e-12, 10 * o + 50, xtol=1e-14)


def _exact_upper(o: int, confidence: float = 0.95) -> float:
    """Mean mu with P(X <= o | mu) = alpha/2, by root finding on the Poisson cdf."""
    a = (1 - confidence) / 2
    return optimize.brentq(lambda mu: stats.poisson.cdf(o, mu) - a, 1e-12, 10 * o + 50, xtol=1e-14)


@pytest.mark.parametrize("confidence", [0.95, 0.998])
def test_exact_interval_inverts_the_poisson(confidence):
    observed = np.array([0, 1, 2, 5, 12, 40, 150])
    expected = np.array([2.0, 1.0, 3.5, 4.2, 10.0, 55.5, 120.0])
    lower, upper = oe_ratio_interval(observed, expected, confidence)
    for o, e, lo, hi in zip(observed, expected, lower, upper):
        assert lo == pytest.approx(_exact_lower(int(o), confidence) / e, rel=1e-8, abs=1e-12)
        assert hi == pytest.approx(_exact_upper(int(o), confidence) / e, rel=1e-8)


def test_exact_interval_published_zero_count():
    # epitools pois.exact: the 95% upper limit for a count of 0 is 3.689.
    lower, upper = oe_ratio_interval(0, 1.0)
    assert lower[0] == 0.0
    assert upper[0] == pytest.approx(3.689, abs=5e-4)
    assert upper[0] == pytest.approx(-math.log(0.025), rel=1e-12)  # P(X=0|mu)=e^-mu=0.025


def test_byar_interval_hand_formula_and_published_example():
    z = 1.959963984540054
    o, e = 12, 10.0
    lo = o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3 / e
    hi = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * math.sqrt(o + 1))) ** 3 / e
    lower, upper = oe_ratio_interval(o, e, method="byar")
    assert lower[0] == pytest.approx(lo, rel=1e-12)
    assert upper[0] == pytest.approx(hi, rel=1e-12)
    # Ruby gem 'byar' documentation, O = 100, E = 90 with z = 1.96 (not 1.959964): agreement
    # to the 5th significant figure.
    lower, upper = oe_ratio_interval(100, 90, method="byar")
    assert lower[0] == pytest.approx(0.9040199067337297, rel=1e-4)
    assert upper[0] == pytest.approx(1.3514260807978444, rel=1e-4)


def test_byar_close_to_exact_for_ten_or_more():
    observed = np.arange(10, 400, 7)
    exact = oe_ratio_interval(observed, 1.0)
    byar = oe_ratio_interval(observed, 1.0, method="byar")
    np.testing.assert_allclose(byar[0], exact[0], rtol=2e-3)
    np.testing.assert_allclose(byar[1], exact[1], rtol=2e-3)


def test_interval_edge_cases():
    lower, upper = oe_ratio_interval([3, 3, np.nan], [0.0, np.nan, 2.0])
    assert np.isnan(lower).all() and np.isnan(upper).all()
    lower, upper = oe_ratio_interval(0, 2.0, method="byar")
    assert lower[0] == 0.0 and upper[0] > 0
    with pytest.raises(ValueError):
        oe_ratio_interval(-1, 2.0)
    with pytest.raises(ValueError):
        oe_ratio_interval(1, 2.0, method="wald")
    with pytest.raises(ValueError):
        oe_ratio_interval(1, 2.0, confidence=1.5)
