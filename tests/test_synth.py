"""The synthetic cohort: realistic national rates, published survival, and determinism by seed."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from naome_report.config import load_config
from naome_report.synth.generator import DE_NOVO_PER_YEAR, generate_extract, write_extract


@pytest.fixture(scope="module")
def extract():
    return generate_extract(load_config())


def test_national_scale_and_mix(extract):
    truth = extract.truth["patients"]
    years = len(load_config().financial_years)
    # De novo about 3,800 a year in England plus Wales in proportion (domain brief §7), over a span a
    # little wider than the reporting years (so exclusions are exercised): allow 20%.
    expected_dn = (DE_NOVO_PER_YEAR["E"] + DE_NOVO_PER_YEAR["W"]) * years
    assert expected_dn * 0.95 < truth["de_novo"] < expected_dn * 1.35
    assert truth["recurrent"] > truth["de_novo"]  # recurrent outnumbers de novo
    patients = extract.frames["patients"]
    men = (patients.sex == "1").mean()
    assert 0.005 < men < 0.015  # about 1% men
    wales_share = (patients.nation == "W").mean()
    assert 0.04 < wales_share < 0.08


def test_receptor_mix_near_epidemiology(extract):
    t = extract.frames["tumours"]
    t = t[t.icd10_code.str.startswith("C50")]
    her2_pos = (t.her2_status == "P").mean()
    er_pos_her2_neg = ((t.er_status == "P") & (t.her2_status == "N")).mean()
    assert 0.10 < her2_pos < 0.16
    assert 0.55 < er_pos_her2_neg < 0.72


def test_same_seed_gives_identical_files(tmp_path):
    config = load_config()
    digests = []
    for run in ("a", "b"):
        paths = write_extract(generate_extract(config, scale=0.05, seed=7), tmp_path / run)
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths})
    assert digests[0] == digests[1]
    other = write_extract(generate_extract(config, scale=0.05, seed=8), tmp_path / "c")
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in other} != digests[0]


def test_de_novo_survival_near_published_values(extract):
    from lifelines import KaplanMeierFitter

    # Independent of the project's own survival code: lifelines on the raw generated dates.
    p = extract.frames["patients"].set_index("patient_id")
    # Distant records only (regional-node records are planted on purpose), and each person's first primary.
    listed = {e["code"]: e["distant"] for e in load_config().section("code_lists")["metastatic_sites"]}
    mets = extract.frames["metastases"]
    distant = mets.site_icd10.map(lambda c: listed.get(c, listed.get(str(c)[:3], False))).astype(bool)
    m = mets[distant].groupby("patient_id").metastasis_date.min()
    t = extract.frames["tumours"].sort_values(["diagnosis_date", "tumour_id"]).drop_duplicates("patient_id")
    t = t.set_index("patient_id")
    de_novo = t.tnm_m.eq("M1") | ((m.reindex(t.index) - t.diagnosis_date).dt.days <= 91)
    ids = de_novo[de_novo].index.intersection(m.index)
    cutoff = pd.Timestamp(load_config().data_cutoff)
    death = pd.to_datetime(p.loc[ids, "date_of_death"])
    end = death.fillna(cutoff)
    years = (end - pd.to_datetime(m.loc[ids])).dt.days / 365.25
    keep = years > 0
    km = KaplanMeierFitter().fit(years[keep], death.notna()[keep])
    s1, s3 = km.predict([1.0, 3.0])
    assert abs(s1 - 0.65) < 0.03
    assert abs(s3 - 0.44) < 0.03


def test_designed_outliers_recorded(extract):
    designed = extract.truth["designed_outliers"]
    assert {d["indicator"] for d in designed} >= {"mdt", "cdk46", "mort30"}
    assert all(d["org_code"].startswith("Z") for d in designed)
    assert np.all([d["direction"] in ("high", "low") for d in designed])
