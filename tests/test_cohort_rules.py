"""Each configured cohort rule on a hand-built extract: the answer worked out by hand, then the rule changed in
configuration and the counts (and the words) changed with it."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from naome_report.cohort import derive_cohort, indicator_flags
from naome_report.config import ConfigError, load_config
from naome_report.registry import load_registry
from naome_report.rules import rules_from_config, window_words

D = pd.Timestamp
CUTOFF = D("2026-09-30")
COLUMNS = {
    "patients": ["patient_id", "nation", "sex", "date_of_birth", "ethnicity", "deprivation_quintile", "charlson_index",
                 "date_of_death"],
    "tumours": ["tumour_id", "patient_id", "data_source", "diagnosis_date", "icd10_code", "tnm_m", "stage_group",
                "er_status", "pr_status", "her2_status", "org_code"],
    "metastases": ["record_id", "patient_id", "data_source", "metastasis_date", "site_icd10", "recurrence_type", "org_code"],
    "care_events": ["event_id", "patient_id", "event_type", "event_date", "value", "data_source", "org_code"],
    "sact": ["regimen_id", "patient_id", "regimen_start_date", "last_administration_date", "drug_names",
             "treatment_intent", "org_code"],
    "radiotherapy": ["episode_id", "patient_id", "episode_start_date", "treatment_site", "intent", "org_code"],
    "admissions": ["admission_id", "patient_id", "admission_date", "discharge_date", "admission_method",
                   "primary_diagnosis", "org_code"],
}
DATES = {"date_of_birth", "date_of_death", "diagnosis_date", "metastasis_date", "event_date", "regimen_start_date",
         "last_administration_date", "episode_start_date", "admission_date", "discharge_date"}


def person(pid: str, born: str = "1950-01-01", died: str | None = None) -> dict:
    return {"patient_id": pid, "nation": "E", "sex": "2", "date_of_birth": D(born), "ethnicity": "A",
            "deprivation_quintile": 3, "charlson_index": 0, "date_of_death": D(died) if died else pd.NaT}


def tumour(pid: str, diagnosed: str, tid: str | None = None, er: str = "P", pr: str = "P", her2: str = "N",
           m: str = "M0", org: str = "ZAA") -> dict:
    return {"tumour_id": tid or f"T{pid}", "patient_id": pid, "data_source": "COSD", "diagnosis_date": D(diagnosed),
            "icd10_code": "C50.4", "tnm_m": m, "stage_group": "4" if m == "M1" else "2", "er_status": er,
            "pr_status": pr, "her2_status": her2, "org_code": org}


def met(pid: str, date: str, site: str = "C79.5", org: str = "ZAA", rid: str | None = None) -> dict:
    return {"record_id": rid or f"M{pid}{date}{site}{org}", "patient_id": pid, "data_source": "HES",
            "metastasis_date": D(date), "site_icd10": site, "recurrence_type": None, "org_code": org}


def care(pid: str, kind: str, date: str, value: str | None = None, org: str = "ZAA") -> dict:
    return {"event_id": f"E{pid}{kind}{date}{org}{value}", "patient_id": pid, "event_type": kind,
            "event_date": D(date), "value": value, "data_source": "COSD", "org_code": org}


def regimen(pid: str, start: str, last: str, drugs: str = "PACLITAXEL", org: str = "ZAA") -> dict:
    return {"regimen_id": f"S{pid}{start}{org}{drugs[:4]}", "patient_id": pid, "regimen_start_date": D(start),
            "last_administration_date": D(last), "drug_names": drugs, "treatment_intent": "P", "org_code": org}


def radiotherapy(pid: str, start: str, intent: str | None) -> dict:
    return {"episode_id": f"R{pid}{start}{intent}", "patient_id": pid, "episode_start_date": D(start),
            "treatment_site": "BONE", "intent": intent, "org_code": "ZAA"}


def extract(**tables: list[dict]) -> dict[str, pd.DataFrame]:
    """Frames with the contract's columns (dates as datetimes), empty where not given."""
    frames = {}
    for name, columns in COLUMNS.items():
        frame = pd.DataFrame(tables.get(name, []), columns=columns)
        for col in columns:
            if col in DATES:
                frame[col] = pd.to_datetime(frame[col])
        frames[name] = frame
    return frames


def config_with(**sections: dict):
    return load_config(overrides=sections)


def cohort_of(frames: dict[str, pd.DataFrame], config=None):
    return derive_cohort(frames, config or load_config())


# --- which records make a case ------------------------------------------------------------------

def _nodes_extract() -> dict[str, pd.DataFrame]:
    # A: node-positive early breast cancer: only an axillary node record (C77.3). B: C77.3 at the primary in
    # 2022, liver metastases in 2024 (recurrent, dated by the liver record). C: intra-abdominal nodes (C77.2).
    return extract(
        patients=[person("A"), person("B"), person("C")],
        tumours=[tumour("A", "2024-05-01"), tumour("B", "2022-03-01"), tumour("C", "2024-05-01")],
        metastases=[met("A", "2024-05-20", "C77.3"), met("B", "2022-03-10", "C77.3"), met("B", "2024-09-01", "C78.7"),
                    met("C", "2024-06-01", "C77.2")])


def test_an_axillary_node_record_alone_does_not_make_a_case():
    cohort = cohort_of(_nodes_extract())
    pts = cohort.patients.set_index("patient_id")
    assert sorted(pts.index) == ["B", "C"]
    assert cohort.excluded.set_index("patient_id").step["A"] == "not_distant_only"
    # The regional record of 2022 does not date B's metastatic diagnosis: the liver record does.
    assert pts.loc["B", "mbc_date"] == D("2024-09-01") and pts.loc["B", "route"] == "recurrent"
    assert pts.loc["C", "has_nodes_metastases"] and not pts.loc["B", "has_nodes_metastases"]
    flow = cohort.flow().set_index("step")
    assert flow.loc["not_distant_only", "count"] == 1
    assert "C77.3" in flow.loc["not_distant_only", "label"]


def test_counting_axillary_nodes_as_distant_in_configuration_brings_them_back():
    sites = copy.deepcopy(load_config().section("code_lists")["metastatic_sites"])
    for entry in sites:
        if entry["code"] == "C77.3":
            entry["distant"] = True
    cohort = cohort_of(_nodes_extract(), config_with(code_lists={"metastatic_sites": sites}))
    # A is now a case; B's 2022 axillary record now dates B's metastatic diagnosis, outside the reporting period.
    assert sorted(cohort.patients.patient_id) == ["A", "C"]
    assert cohort.excluded.set_index("patient_id").step.to_dict() == {"B": "outside_period"}
    assert "not_distant_only" not in set(cohort.excluded.step)


def test_unlisted_codes_fall_back_to_their_category():
    rules = rules_from_config(load_config())
    assert rules.site_code("C78.6").distant and rules.site_code("C78.6").site == "other"
    assert not rules.site_code("C77.3").distant
    assert rules.site_code("C79.5").site == "bone"


# --- age --------------------------------------------------------------------------------------------

def test_age_is_completed_years_and_the_limits_are_applied_and_counted():
    # Metastatic diagnosis 2024-06-01 for all. E: 18th birthday that day (18, in). F: 18 tomorrow (17, out).
    # G: 105 and 364 days (105, in). H: 106th birthday that day (106, out).
    born = {"E": "2006-06-01", "F": "2006-06-02", "G": "1918-06-02", "H": "1918-06-01"}
    frames = extract(patients=[person(p, b) for p, b in born.items()],
                     tumours=[tumour(p, "2024-06-01", m="M1") for p in born])
    cohort = cohort_of(frames)
    pts = cohort.patients.set_index("patient_id")
    assert sorted(pts.index) == ["E", "G"]
    assert pts.age.to_dict() == {"E": 18.0, "G": 105.0}
    steps = cohort.excluded.set_index("patient_id").step.to_dict()
    assert steps == {"F": "under_min_age", "H": "over_max_age"}
    flow = cohort.flow().set_index("step")
    assert flow.loc["over_max_age", "count"] == 1
    assert flow.loc["over_max_age", "label"] == "Aged over 105 at metastatic diagnosis (taken as a recording error)"
    # Raise the limit: H comes back, and the flow's words say 106.
    wider = cohort_of(frames, config_with(cohort={"max_age": 106}))
    assert "H" in set(wider.patients.patient_id)
    assert wider.flow().set_index("step").loc["over_max_age", "label"].startswith("Aged over 106")


# --- ties resolve the same way whatever the file order ------------------------------------------

def _ties_extract() -> dict[str, pd.DataFrame]:
    return extract(
        patients=[person("J"), person("K"), person("L")],
        tumours=[tumour("J", "2024-05-01", m="M1", org="ZAD"),
                 # K: two primaries on the same day; the lower tumour identifier (TK1) is ER negative.
                 tumour("K", "2024-05-01", tid="TK2", er="P", m="M1"),
                 tumour("K", "2024-05-01", tid="TK1", er="N", pr="N", m="M1"),
                 tumour("L", "2022-01-01")],
        # L: two records of the first metastasis on the same day at different organisations.
        metastases=[met("L", "2024-07-01", org="ZAK"), met("L", "2024-07-01", org="ZAG")],
        care_events=[care("J", "MDT", "2024-05-10", org="ZAK"), care("J", "MDT", "2024-05-10", org="ZAG"),
                     # PS 5 days either side of J's diagnosis: equally near; the earlier record (value 3) wins.
                     care("J", "PS", "2024-05-06", "1"), care("J", "PS", "2024-04-26", "3"), care("J", "PS", "2024-05-06", "9")],
        # J's last SACT: two regimens ending the same day; the one started later wins (ZAK); K: same start too.
        sact=[regimen("J", "2024-06-01", "2024-12-01", org="ZAG"), regimen("J", "2024-07-01", "2024-12-01", org="ZAK"),
              regimen("K", "2024-06-01", "2024-12-01", org="ZAK"), regimen("K", "2024-06-01", "2024-12-01", org="ZAG")],
    )


def test_ties_are_broken_by_content_as_the_configuration_says():
    pts = cohort_of(_ties_extract()).patients.set_index("patient_id")
    assert pts.loc["J", "diagnosing_org"] == "ZAG"  # first MDT: two on the same day, first code wins
    assert pts.loc["J", "ps_group"] == "3-4"  # value 3, five days before, beats 1 five days after; 9 is no value
    assert pts.loc["J", "last_sact_org"] == "ZAK"  # same last day: the later start
    assert pts.loc["K", "last_sact_org"] == "ZAG"  # same last day and start: the first code
    assert pts.loc["K", "subtype"] == "Triple negative"  # tumour TK1
    assert pts.loc["L", "diagnosing_org"] == "ZAG"  # no MDT: first metastatic record, first code


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_tie_resolves_the_same_way_whatever_the_file_order(seed):
    frames = _ties_extract()
    rng = np.random.default_rng(seed)
    shuffled = {name: f.iloc[rng.permutation(len(f))].reset_index(drop=True) for name, f in frames.items()}
    columns = ["patient_id", "diagnosing_org", "ps_group", "last_sact_org", "subtype", "mbc_date", "mbc_org"]
    expected = cohort_of(frames).patients[columns].sort_values("patient_id").reset_index(drop=True)
    got = cohort_of(shuffled).patients[columns].sort_values("patient_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)


def test_allocation_order_in_configuration_decides_the_diagnosing_organisation():
    frames = extract(patients=[person("J")], tumours=[tumour("J", "2024-05-01")],
                     metastases=[met("J", "2024-05-02", org="ZAD")], care_events=[care("J", "MDT", "2024-05-20", org="ZAK")])
    assert cohort_of(frames).patients.diagnosing_org.tolist() == ["ZAK"]
    by_record = config_with(allocation={"diagnosing_org": ["first_metastatic_record"]})
    assert cohort_of(frames, by_record).patients.diagnosing_org.tolist() == ["ZAD"]
    # An MDT outside the allocation window does not allocate.
    narrow = config_with(windows={"allocation_mdt_days": [-31, 7]})
    assert cohort_of(frames, narrow).patients.diagnosing_org.tolist() == ["ZAD"]


def test_an_unknown_allocation_source_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"\[allocation\] diagnosing_org: must list some of first_mdt"):
        rules_from_config(config_with(allocation={"diagnosing_org": ["first_biopsy"]}))


# --- code lists move the counts they should ----------------------------------------------------------

def _treatment_extract() -> dict[str, pd.DataFrame]:
    ids = list("PQRSTU")
    return extract(
        patients=[person(p) for p in ids],
        # S is ER-/PR+/HER2-; U is ER-/PR unknown/HER2- (Unknown).
        tumours=[tumour(p, "2024-05-01", m="M1", er="N" if p in "SU" else "P", pr="X" if p == "U" else "P") for p in ids],
        metastases=[met(p, "2024-05-01") for p in ids],
        sact=[regimen("P", "2024-06-01", "2024-09-01", "PALBOCICLIB + LETROZOLE"),
              regimen("Q", "2024-06-01", "2024-09-01", "ZOLEDRONIC ACID"),
              regimen("R", "2024-12-15", "2025-01-10", "RIBOCICLIB + LETROZOLE")],
        radiotherapy=[radiotherapy("P", "2024-06-01", "P"), radiotherapy("Q", "2024-06-01", "X"),
                      radiotherapy("R", "2024-06-01", None), radiotherapy("S", "2024-06-01", "R")],
        care_events=[care("P", "PS", "2024-05-02", "4"), care("Q", "PS", "2024-05-02", "9")],
    )


def _numerator(ind_id: str, config=None) -> list[str]:
    config = config or load_config()
    cohort = cohort_of(_treatment_extract(), config)
    flags = indicator_flags(load_registry(config=config).get(ind_id), cohort, CUTOFF)
    return sorted(cohort.patients.patient_id[flags.numerator & flags.denominator])


def test_palliative_radiotherapy_counts_only_the_configured_intents():
    assert _numerator("radiotherapy") == ["P"]
    assert _numerator("radiotherapy", config_with(code_lists={"palliative_radiotherapy_intents": ["P", "X"]})) == ["P", "Q"]


def test_regimen_groups_decide_treatment_and_first_treatment_window():
    assert _numerator("cdk46") == ["P"]  # R started 228 days after diagnosis
    assert _numerator("sact") == ["P"]  # Q's zoledronic acid alone is not anti-cancer SACT
    assert _numerator("sact", config_with(windows={"first_treatment_days": [0, 240]})) == ["P", "R"]
    groups = dict(load_config().section("code_lists")["sact_regimen_groups"])
    groups["cdk46_inhibitors"] = ["RIBOCICLIB"]
    assert _numerator("cdk46", config_with(code_lists={"sact_regimen_groups": groups})) == []
    groups["not_anti_cancer"] = ["DENOSUMAB"]
    assert _numerator("sact", config_with(code_lists={"sact_regimen_groups": groups})) == ["P", "Q"]


def test_performance_status_values_and_groups_come_from_configuration():
    pts = cohort_of(_treatment_extract()).patients.set_index("patient_id")
    assert pts.loc["P", "ps_group"] == "3-4" and pts.loc["Q", "ps_group"] == "Unknown"  # 9 is not a value
    assert _numerator("perf_status") == ["P"]
    values = {"code_lists": {"performance_status_values": ["0", "1", "2", "3"],
                             "performance_status_groups": {"0-1": ["0", "1"], "2": ["2"], "3": ["3"]}}}
    assert _numerator("perf_status", config_with(**values)) == []


def test_subtypes_follow_the_configured_rules():
    pts = cohort_of(_treatment_extract()).patients.set_index("patient_id")
    assert pts.loc["S", "subtype"] == "ER-/PR+/HER2-" and pts.loc["U", "subtype"] == "Unknown"
    assert pts.loc["P", "subtype"] == "ER+/HER2-"
    registry = load_registry()
    cohort = cohort_of(_treatment_extract())
    den = indicator_flags(registry.get("cdk46"), cohort, CUTOFF).denominator
    assert sorted(cohort.patients.patient_id[den]) == ["P", "Q", "R", "S", "T"]  # hormone receptor positive
    without = [s for s in load_config().section("code_lists")["subtypes"] if s["label"] != "ER-/PR+/HER2-"]
    pts = cohort_of(_treatment_extract(), config_with(code_lists={"subtypes": without})).patients.set_index("patient_id")
    assert pts.loc["S", "subtype"] == "Unknown"


def test_bone_metastases_window_decides_the_bone_agent_denominator():
    frames = extract(patients=[person("V")], tumours=[tumour("V", "2024-05-01", m="M1")],
                     metastases=[met("V", "2024-05-01", "C78.7"), met("V", "2024-07-15", "C79.5")])
    # The bone record is 75 days after diagnosis: inside the default window (-31 to 91), outside one ending at 60.
    assert cohort_of(frames).patients.has_bone_metastases.tolist() == [True]
    narrow = config_with(windows={"metastatic_sites_days": [-31, 60]})
    assert cohort_of(frames, narrow).patients.has_bone_metastases.tolist() == [False]
    assert "from 31 days (1 month) before to 60 days (2 months) after" in load_registry(config=narrow).get("bone_agent").denominator_text


def test_thirty_day_mortality_needs_complete_follow_up():
    # W: last SACT 10 days before the cut-off, died 5 days later. X: last SACT a year before, died 20 days later.
    frames = extract(patients=[person("W", died="2026-09-25"), person("X", died="2025-09-20")],
                     tumours=[tumour("W", "2024-05-01", m="M1"), tumour("X", "2024-05-01", m="M1")],
                     metastases=[met("W", "2024-05-01"), met("X", "2024-05-01")],
                     sact=[regimen("W", "2024-06-01", "2026-09-20"), regimen("X", "2024-06-01", "2025-09-01")])
    registry, config = load_registry(), load_config()
    cohort = cohort_of(frames, config)
    flags = indicator_flags(registry.get("mort30_sact"), cohort, CUTOFF)
    assert cohort.patients.patient_id[flags.denominator].tolist() == ["X"]
    assert cohort.patients.patient_id[flags.numerator].tolist() == ["X"]
    open_ended = config_with(censoring={"mortality_requires_complete_followup": False})
    flags = indicator_flags(load_registry(config=open_ended).get("mort30_sact"), cohort_of(frames, open_ended), CUTOFF)
    assert flags.denominator.sum() == 2 and flags.numerator.sum() == 2


# --- words follow the rules --------------------------------------------------------------------------

def test_window_words_by_hand():
    assert window_words((0, 183)) == "within 183 days (6 months) of the MBC diagnosis"
    assert window_words((-31, 91)) == "from 31 days (1 month) before to 91 days (3 months) after the MBC diagnosis"
    assert window_words((0, 183), "diagnosis", short=True) == "within 6 months of diagnosis"
    assert window_words((0, 100), "diagnosis", short=True) == "within 100 days of diagnosis"
    assert window_words((0, 42)) == "within 42 days (6 weeks) of the MBC diagnosis"


def test_indicator_titles_and_definitions_change_with_the_configured_rule():
    config = config_with(windows={"first_treatment_days": [0, 91]})
    sact = load_registry(config=config).get("sact")
    assert sact.title == "Systemic anti-cancer therapy started within 3 months of diagnosis"
    assert "within 91 days (3 months) of the MBC diagnosis" in sact.numerator_text
    default = load_registry().get("sact")
    assert default.title == "Systemic anti-cancer therapy started within 6 months of diagnosis"
    assert "intent P (palliative)" in load_registry().get("radiotherapy").numerator_text


def test_bad_windows_are_named_with_file_and_setting():
    with pytest.raises(ConfigError, match=r"naome\.toml: \[windows\] first_treatment_days: must be two whole numbers"):
        rules_from_config(config_with(windows={"first_treatment_days": [183, 0]}))


def test_the_synthetic_extract_gives_the_same_cohort_in_any_file_order():
    """The generator plants ties of every kind; shuffling every file must not move a single derived value."""
    from naome_report.synth.generator import generate_extract

    config = load_config()
    frames = generate_extract(config, scale=0.1, seed=11).frames
    assert frames["metastases"].record_id.str.startswith("M9").any()  # the planted ties are there
    rng = np.random.default_rng(5)
    shuffled = {name: f.iloc[rng.permutation(len(f))].reset_index(drop=True) for name, f in frames.items()}
    first, second = derive_cohort(frames, config), derive_cohort(shuffled, config)
    a = first.patients.sort_values("patient_id").reset_index(drop=True)
    b = second.patients.sort_values("patient_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_emergency_admission_methods_come_from_the_code_list():
    admission = {"admission_id": "A1", "patient_id": "Y", "admission_date": D("2024-05-10"),
                 "discharge_date": D("2024-05-12"), "admission_method": "2D", "primary_diagnosis": "C79.5",
                 "org_code": "ZAA"}
    frames = extract(patients=[person("Y")], tumours=[tumour("Y", "2024-05-01", m="M1")],
                     metastases=[met("Y", "2024-05-01")], admissions=[admission])
    registry, cohort = load_registry(), cohort_of(frames)
    assert indicator_flags(registry.get("emergency"), cohort, CUTOFF).numerator.tolist() == [True]
    fewer = config_with(code_lists={"emergency_admission_methods": ["21", "22"]})
    flags = indicator_flags(load_registry(config=fewer).get("emergency"), cohort_of(frames, fewer), CUTOFF)
    assert flags.numerator.tolist() == [False]
    assert "admission method 21 or 22" in load_registry(config=fewer).get("emergency").numerator_text


def test_the_survey_year_counts_towards_the_configured_financial_year():
    from naome_report.indicators import _cpes_counts, periods_for

    cpes = pd.DataFrame({"org_code": ["ZAA", "ZAA"], "survey_year": [2023, 2024], "respondents": [50, 60],
                         "yes_count": [40, 45]})
    years = ["2023/24", "2024/25", "2025/26"]
    periods = periods_for(years, "2023/24-2025/26")
    same = _cpes_counts(cpes, periods, years, offset=0).set_index("period")
    assert same.loc["2023/24", "denominator"] == 50 and same.loc["2024/25", "denominator"] == 60
    later = _cpes_counts(cpes, periods, years, offset=1).set_index("period")
    assert later.loc["2024/25", "denominator"] == 50 and later.loc["2025/26", "denominator"] == 60
    assert "2023/24" not in later.index
