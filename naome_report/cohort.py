"""Patient-level derivations: who is in the audit cohort, and what happened to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from naome_report.config import Config
from naome_report.registry import Indicator
from naome_report.rules import REPORTED_SITES, CohortRules, join_words, rules_from_config

DAY = np.timedelta64(1, "D")


def exclusion_steps(rules: CohortRules) -> tuple[tuple[str, str], ...]:
    """Exclusion steps in the order the patient-flow diagram shows them, worded from the configured rules."""
    not_distant = [s.code for s in rules.metastatic_sites if not s.distant]
    return (
        ("no_invasive_breast", f"No invasive breast cancer recorded (ICD-10 {join_words(rules.breast_icd10_prefixes)})"),
        ("not_distant_only", "Only records not counted as distant metastasis"
                             + (f" (ICD-10 {join_words(not_distant)})" if not_distant else "")),
        ("no_metastasis", "No distant metastasis recorded"),
        ("outside_period", "Metastatic diagnosis outside the reporting period"),
        ("under_min_age", f"Aged under {rules.min_age} at metastatic diagnosis"),
        ("over_max_age", f"Aged over {rules.max_age} at metastatic diagnosis (taken as a recording error)"),
        ("diagnosed_at_death", "Metastatic diagnosis on the date of death (death certificate only)"),
    )


@dataclass
class Cohort:
    """The included patients with their derived columns, and everyone excluded with a reason."""

    patients: pd.DataFrame
    excluded: pd.DataFrame  # patient_id, step, reason
    # Event tables of included patients: patient_row (the row in patients), days_from_mbc and the source columns.
    events: dict[str, pd.DataFrame]
    # Per input table, how many records belong to included patients (for the reconciliation).
    included_records: dict[str, int] = field(default_factory=dict)
    # Per input table, how many cohort patients have at least one record in it (linkage).
    patients_with_records: dict[str, int] = field(default_factory=dict)
    rules: CohortRules | None = None

    def flow(self) -> pd.DataFrame:
        """Counts for the patient-flow diagram: start, each exclusion step, and the final cohort."""
        total = len(self.patients) + len(self.excluded)
        rows = [{"step": "extract", "label": "People in the linked extract (valid records)", "count": total}]
        for step, label in exclusion_steps(self.rules):
            rows.append({"step": step, "label": label, "count": int((self.excluded.step == step).sum())})
        rows.append({"step": "cohort", "label": "People in the audit cohort", "count": len(self.patients)})
        for route in ("de_novo", "recurrent"):
            rows.append({"step": route, "label": route.replace("_", " ").capitalize() + " MBC",
                         "count": int((self.patients.route == route).sum())})
        return pd.DataFrame(rows)


def financial_year_label(dates: pd.Series) -> pd.Series:
    """'2024/25' style financial year of each date."""
    start = dates.dt.year - (dates.dt.month < 4).astype(int)
    return start.astype(str) + "/" + ((start + 1) % 100).astype(str).str.zfill(2)


def financial_quarter_label(dates: pd.Series) -> pd.Series:
    """'2024/25 Q1' style financial quarter of each date (Q1 = April to June)."""
    quarter = ((dates.dt.month - 4) % 12) // 3 + 1
    return financial_year_label(dates) + " Q" + quarter.astype(str)


def _label_each(dates: np.ndarray, label: Callable[[pd.Series], pd.Series]) -> np.ndarray:
    """label() of every date, computed once per distinct date (patients share a few thousand dates)."""
    codes, distinct = pd.factorize(dates)
    return label(pd.Series(distinct)).to_numpy(object)[codes]


# --- keys, compact columns and row lookups ------------------------------------------------------------
# Record identifiers and source row numbers play no part in the derivations (the tumour identifier breaks
# ties between primaries diagnosed on the same date).
_NOT_NEEDED = {"record_id", "event_id", "regimen_id", "episode_id", "admission_id", "_row", "patient_id"}
_BIG = np.iinfo(np.int64).max


def _arrow_strings(values: pd.Series) -> pa.Array:
    """A string column as one Arrow array (zero-copy for Arrow-backed pandas strings)."""
    if hasattr(values.array, "__arrow_array__"):
        arr = values.array.__arrow_array__()
    else:
        arr = pa.array(values.to_numpy(object), from_pandas=True, type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string())


def patient_rows(frames: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    """For every table with a patient_id, each record's row in the patients table (-1: no such patient)."""
    names = ["patients"] + [n for n, f in frames.items() if n != "patients" and "patient_id" in f]
    lengths = [len(frames[n]) for n in names]
    # One dictionary encoding of every table's ids: patients come first, so codes follow the patients table.
    encoded = pc.dictionary_encode(pa.concat_arrays([_arrow_strings(frames[n].patient_id) for n in names]))
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    patient_codes = codes[:lengths[0]]
    row_of_code = np.full(len(encoded.dictionary) + 1, -1, np.int64)  # the extra last slot answers code -1
    row_of_code[patient_codes[::-1]] = np.arange(lengths[0])[::-1]  # a repeated id keeps its first row
    bounds = np.cumsum([0] + lengths)
    return {n: row_of_code[codes[bounds[i]:bounds[i + 1]]] for i, n in enumerate(names)}


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns the derivations use: strings as categories, nullable integers as floats."""
    out = {}
    for col in frame.columns:
        if col in _NOT_NEEDED:
            continue
        values = frame[col]
        if isinstance(values.dtype, pd.StringDtype) or values.dtype == object:
            out[col] = values.astype("category")
        elif pd.api.types.is_extension_array_dtype(values.dtype) and pd.api.types.is_integer_dtype(values.dtype):
            out[col] = values.astype("float64")
        else:
            out[col] = values
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True)


def _category_test(values: pd.Series, test: Callable[[pd.Index], Any], missing: bool = False) -> np.ndarray:
    """test() applied once per distinct value of a categorical column, spread back to every row."""
    cats = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    hit = np.append(np.asarray(test(cats.cat.categories), bool), missing)  # code -1 (missing) takes the last slot
    return hit[cats.cat.codes.to_numpy()]


def _recode(values: pd.Series, mapping: Callable[[Any], Any], default: Any) -> np.ndarray:
    """mapping() of every distinct value of a categorical column, with default for missing values."""
    cats = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    lookup = np.array([mapping(c) for c in cats.cat.categories] + [default], dtype=object)
    return lookup[cats.cat.codes.to_numpy()]


def _take(values: pd.Series, positions: np.ndarray) -> Any:
    """values at positions, with a missing value where the position is -1."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = np.append(values.cat.codes.to_numpy(), -1)
        return pd.Categorical.from_codes(codes[positions], dtype=values.dtype)
    arr = values.to_numpy()
    if np.issubdtype(arr.dtype, np.datetime64):
        missing = np.array(["NaT"], dtype=arr.dtype)
    elif arr.dtype.kind == "f":
        missing = np.array([np.nan])
    else:
        arr, missing = arr.astype(object), np.array([None], dtype=object)
    return np.concatenate([arr, missing])[positions]


def _dates(values: pd.Series) -> np.ndarray:
    return values.to_numpy("datetime64[ns]")


def _sortable(values: np.ndarray) -> np.ndarray:
    """Numbers that sort like `values`, missing dates and numbers last."""
    if np.issubdtype(values.dtype, np.datetime64):
        out = values.view("i8").copy()
        out[np.isnat(values)] = _BIG
        return out
    if values.dtype.kind == "f":
        return np.where(np.isnan(values), np.inf, values)
    return values.astype("i8")


def _first_rows(keys: np.ndarray, size: int, *order: np.ndarray) -> np.ndarray:
    """Per key 0..size-1, the row that sorts first by `order` (most significant first); -1 where none.

    Rows with a negative key are ignored; missing values sort last. Callers order by enough content
    columns that a tie left over means identical records, so the answer never depends on file order.
    """
    rows = np.flatnonzero(keys >= 0)
    rows = rows[np.lexsort([_sortable(o)[rows] for o in reversed(order)] + [keys[rows]])]
    first = np.ones(len(rows), bool)
    first[1:] = keys[rows[1:]] != keys[rows[:-1]]
    out = np.full(size + 1, -1, np.int64)  # the extra last slot answers key -1
    out[keys[rows[first]]] = rows[first]
    return out[:size]


def _latest(dates: np.ndarray) -> np.ndarray:
    """Sort keys that put the latest known date first (missing dates last)."""
    values = _sortable(dates).astype(np.float64)
    return np.where(values >= _BIG, np.inf, -values)


def _rank(values: pd.Series, order: pd.Index) -> np.ndarray:
    """Position of each value in a sorted index (missing values last): a tie-break that ignores file order."""
    cats = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    lookup = np.append(order.get_indexer(cats.cat.categories), len(order)).astype(np.int64)
    lookup[lookup < 0] = len(order)
    return lookup[cats.cat.codes.to_numpy()]


def _completed_years(born: pd.Series, on: pd.Series) -> pd.Series:
    """Age in completed years on a date (birthdays not yet reached that year do not count); NaN where unknown."""
    born, on = pd.to_datetime(born), pd.to_datetime(on)
    before_birthday = (on.dt.month < born.dt.month) | ((on.dt.month == born.dt.month) & (on.dt.day < born.dt.day))
    return (on.dt.year - born.dt.year - before_birthday.astype(int)).astype("float64")


def _bands(values: pd.Series, edges: tuple[int, ...], labels: list[str]) -> np.ndarray:
    """Values cut into bands at `edges` (each band includes its lower edge); 'Unknown' where missing."""
    bins = [-np.inf, *edges, np.inf]
    banded = pd.cut(values, bins=bins, labels=labels, right=False).astype(object)
    return np.where(values.isna().to_numpy(), "Unknown", banded.to_numpy(object)).astype(object)


def _subtype(er: pd.Series, pr: pd.Series, her2: pd.Series, rules: CohortRules) -> pd.Series:
    """The first configured subtype each patient's receptor statuses match, else 'Unknown'."""
    def matches(values: pd.Series, allowed: tuple[str, ...]) -> np.ndarray:
        return np.ones(len(values), bool) if not allowed else values.isin(allowed).to_numpy()

    conditions = [matches(er, s.er) & matches(pr, s.pr) & matches(her2, s.her2) for s in rules.subtypes]
    return pd.Series(np.select(conditions, [s.label for s in rules.subtypes], "Unknown"), index=er.index)


def _drugs_in(names: pd.Index, drugs: tuple[str, ...]) -> np.ndarray:
    """Per regimen drug list ('A + B'), whether any of its drugs is one of `drugs` (whole names only, so
    TRASTUZUMAB does not match TRASTUZUMAB EMTANSINE)."""
    wanted = set(drugs)
    return np.array([any(d in wanted for d in str(n).split(" + ")) for n in names], bool)


def _only_drugs_in(names: pd.Index, drugs: tuple[str, ...]) -> np.ndarray:
    """Per regimen drug list, whether every one of its drugs is one of `drugs`."""
    allowed = set(drugs)
    return np.array([all(d in allowed for d in str(n).split(" + ")) for n in names], bool)


def _any_per_row(rows: np.ndarray, size: int) -> np.ndarray:
    hit = np.zeros(size, bool)
    hit[rows] = True
    return hit


def derive_cohort(frames: dict[str, pd.DataFrame], config: Config) -> Cohort:
    """Apply the cohort rules to a validated extract and derive every patient-level column."""
    rules = rules_from_config(config)
    cutoff = np.datetime64(pd.Timestamp(config.data_cutoff), "ns")
    fy_first = int(config.financial_years[0][:4])
    fy_last = int(config.financial_years[-1][:4])
    period_start, period_end = np.datetime64(f"{fy_first}-04-01", "ns"), np.datetime64(f"{fy_last + 1}-03-31", "ns")

    rows_of = patient_rows(frames)
    people = frames["patients"]
    n = len(people)
    tables = {name: _compact(frames[name]) for name in rows_of if name != "patients"}
    patients = _compact(people)
    # Organisation codes in one sorted order: ties between records on the same date go to the first code.
    org_order = pd.Index(sorted(set().union(*(t.org_code.dropna().astype(str).unique() for t in tables.values()
                                              if "org_code" in t))))

    # --- first invasive primary, first evidence of metastatic disease ---------------------------------
    tum, tum_rows = tables["tumours"], rows_of["tumours"]
    invasive = _category_test(tum.icd10_code, lambda c: c.str.startswith(rules.breast_icd10_prefixes))
    primary = _first_rows(np.where(invasive, tum_rows, -1), n, _dates(tum.diagnosis_date),
                          _rank(tum.tumour_id, pd.Index(sorted(tum.tumour_id.cat.categories))))
    frame = pd.DataFrame({"patient_id": people.patient_id.reset_index(drop=True)})
    for col in ("nation", "sex", "date_of_birth", "ethnicity", "deprivation_quintile", "charlson_index", "date_of_death"):
        frame[col] = patients[col]
    for col in ("diagnosis_date", "tnm_m", "stage_group", "er_status", "pr_status", "her2_status"):
        frame[col] = _take(tum[col], primary)
    frame["primary_org"] = _take(tum.org_code, primary).astype(object)

    # Evidence of distant metastasis: a distant-site record, or a stage 4 primary on its diagnosis date
    # (which wins a tie with a record). Ties on date go to the first organisation code.
    stage4 = ((frame.tnm_m == "M1").to_numpy() | (frame.stage_group == "4").to_numpy()) & rules.stage4_primary_counts
    stage4_rows = np.flatnonzero(stage4)
    mets, met_rows = tables["metastases"], rows_of["metastases"]
    distant = _recode(mets.site_icd10, lambda c: bool(getattr(rules.site_code(c), "distant", False)), False).astype(bool)
    keys = np.concatenate([stage4_rows, np.where(distant, met_rows, -1)])
    dates = np.concatenate([_dates(frame.diagnosis_date)[stage4_rows], _dates(mets.metastasis_date)])
    source = np.concatenate([np.zeros(len(stage4_rows), np.int64), np.ones(len(met_rows), np.int64)])
    org_rank = np.concatenate([_rank(frame.primary_org.iloc[stage4_rows], org_order), _rank(mets.org_code, org_order)])
    first = _first_rows(keys, n, dates, source, org_rank)
    from_stage = (first >= 0) & (first < len(stage4_rows))
    met_pos = np.where(first >= len(stage4_rows), first - len(stage4_rows), -1)
    frame["mbc_date"] = np.append(dates, np.datetime64("NaT", "ns"))[first]
    frame["mbc_org"] = np.where(from_stage, frame.primary_org.to_numpy(), _take(mets.org_code, met_pos).astype(object))
    frame["age"] = _completed_years(frame.date_of_birth, frame.mbc_date)
    other_records = _any_per_row(met_rows[(met_rows >= 0) & ~distant], n)

    step = np.full(n, None, dtype=object)

    def exclude(mask: pd.Series | np.ndarray, name: str) -> None:
        step[np.asarray(mask, bool) & pd.isna(step)] = name

    exclude(frame.diagnosis_date.isna(), "no_invasive_breast")
    exclude(frame.mbc_date.isna() & other_records, "not_distant_only")
    exclude(frame.mbc_date.isna(), "no_metastasis")
    exclude((frame.mbc_date < period_start) | (frame.mbc_date > period_end), "outside_period")
    exclude(frame.age < rules.min_age, "under_min_age")
    exclude(frame.age > rules.max_age, "over_max_age")
    exclude(frame.date_of_death.notna() & (frame.date_of_death <= frame.mbc_date), "diagnosed_at_death")
    out = pd.notna(step)
    excluded = pd.DataFrame({"patient_id": frame.patient_id[out].to_numpy(), "step": step[out]})
    excluded["reason"] = excluded.step.map(dict(exclusion_steps(rules)))
    included = np.flatnonzero(~out)
    pts = frame.iloc[included].reset_index(drop=True)
    m = len(pts)
    cohort_row = np.full(n + 1, -1, np.int64)  # patients-table row -> cohort row; the last slot answers -1
    cohort_row[included] = np.arange(m)

    # Event tables of included patients, keyed by cohort row, with days from the MBC diagnosis.
    mbc_dates = _dates(pts.mbc_date)
    date_cols = {"metastases": "metastasis_date", "care_events": "event_date", "sact": "regimen_start_date",
                 "radiotherapy": "episode_start_date", "admissions": "admission_date"}
    events, included_records = {}, {"patients": m, "tumours": int((cohort_row[tum_rows] >= 0).sum())}
    with_records = {"patients": m, "tumours": m}
    for name, date_col in date_cols.items():
        row = cohort_row[rows_of[name]]
        keep = row >= 0
        table = tables[name][keep].reset_index(drop=True)
        table.insert(0, "patient_row", row[keep])
        table["days_from_mbc"] = ((_dates(table[date_col]) - mbc_dates[row[keep]]) / DAY).astype("float64")
        if name == "metastases":
            table["distant"] = distant[keep]
        events[name] = table
        included_records[name] = int(keep.sum())
        with_records[name] = int(np.count_nonzero(np.bincount(row[keep], minlength=m)))

    # --- route, subtype, stage, sites ------------------------------------------------------------
    gap_days = (pts.mbc_date - pts.diagnosis_date) / DAY
    m1 = ((pts.tnm_m == "M1") | (pts.stage_group == "4")) & rules.stage4_primary_counts
    pts["route"] = np.where(m1 | (gap_days <= rules.de_novo_window_days), "de_novo", "recurrent")
    pts["subtype"] = _subtype(pts.er_status, pts.pr_status, pts.her2_status, rules)
    pts["receptors_known"] = pts.er_status.isin(["P", "N"]) & pts.her2_status.isin(["P", "N"])
    pts["stage_known"] = pts.tnm_m.isin(["M0", "M1"]) | pts.stage_group.isin(["1", "2", "3", "4"])
    mets = events["metastases"]
    lo, hi = rules.metastatic_sites_days
    at_diagnosis = mets[mets.distant.to_numpy() & mets.days_from_mbc.between(lo, hi).to_numpy()]
    site_of = _recode(at_diagnosis.site_icd10, lambda c: getattr(rules.site_code(c), "site", None), None)
    for name in REPORTED_SITES:
        pts[f"has_{name}_metastases"] = _any_per_row(at_diagnosis.patient_row.to_numpy()[site_of == name], m)
    site_code = at_diagnosis.site_icd10.cat.codes.to_numpy().astype(np.int64)
    known_site = site_code >= 0
    pairs = np.unique(at_diagnosis.patient_row.to_numpy()[known_site] * (site_code.max(initial=0) + 1) + site_code[known_site])
    pts["n_metastatic_sites"] = np.bincount(pairs // (site_code.max(initial=0) + 1), minlength=m).astype(int)
    recorded = (_category_test(mets.data_source, lambda c: c.isin(["COSD", "CANISC"])) & mets.recurrence_type.notna().to_numpy()
                & mets.metastasis_date.notna().to_numpy() & mets.distant.to_numpy())
    pts["recurrence_recorded"] = _any_per_row(mets.patient_row.to_numpy()[recorded], m) & (pts.route == "recurrent").to_numpy()

    # --- care events: allocation MDT; performance status nearest the MBC diagnosis ------------------
    care = events["care_events"]
    lo, hi = rules.allocation_mdt_days
    is_mdt = (care.event_type == "MDT").to_numpy() & care.days_from_mbc.between(lo, hi).to_numpy()
    first_mdt = _first_rows(np.where(is_mdt, care.patient_row.to_numpy(), -1), m, _dates(care.event_date),
                            _rank(care.org_code, org_order))
    pts["first_mdt_org"] = _take(care.org_code, first_mdt).astype(object)
    lo, hi = rules.performance_status_days
    ps_groups = {v: g for g, values in rules.performance_status_groups.items() for v in values}
    valid_ps = _category_test(care.value, lambda c: c.isin(rules.performance_status_values))
    is_ps = (care.event_type == "PS").to_numpy() & care.days_from_mbc.between(lo, hi).to_numpy() & valid_ps
    ps_rank = _recode(care.value, lambda v: -float(v) if str(v).isdigit() else 0.0, 0.0).astype(float)
    # Nearest in days; equally near: the earlier record, then the higher (worse) value.
    nearest = _first_rows(np.where(is_ps, care.patient_row.to_numpy(), -1), m, care.days_from_mbc.abs().to_numpy(),
                          care.days_from_mbc.to_numpy(), ps_rank)
    ps_value = pd.Series(_take(care.value, nearest)).astype(object)
    pts["ps_known"] = ps_value.notna().to_numpy()
    pts["ps_group"] = ps_value.map(lambda v: ps_groups.get(v, "Unknown")).to_numpy(object)

    # --- SACT ------------------------------------------------------------------------------------
    sact = events["sact"]
    lo, hi = rules.first_treatment_days
    anti_cancer = ~_category_test(sact.drug_names, lambda c: _only_drugs_in(c, rules.not_anti_cancer), missing=False)
    anti_after = anti_cancer & (sact.days_from_mbc >= lo).to_numpy()
    sact_rows = np.where(anti_after, sact.patient_row.to_numpy(), -1)
    first_sact = _first_rows(sact_rows, m, _dates(sact.regimen_start_date))
    pts["days_to_first_sact"] = _take(sact.days_from_mbc, first_sact)
    pts["treated_sact"] = pts.days_to_first_sact.between(lo, hi)
    pts["any_sact"] = pts.days_to_first_sact.notna()
    # The last SACT: latest last administration, then latest regimen start, then first organisation code.
    last = _first_rows(sact_rows, m, _latest(_dates(sact.last_administration_date)),
                       _latest(_dates(sact.regimen_start_date)), _rank(sact.org_code, org_order))
    pts["last_sact_date"] = _take(sact.last_administration_date, last)
    pts["last_sact_org"] = _take(sact.org_code, last).astype(object)

    # --- case-mix covariates, allocation, periods, survival --------------------------------------
    pts["age_band"] = _bands(pts.age, rules.age_band_edges, rules.age_bands)
    pts["sex"] = _recode(pts.sex, lambda code: {"1": "Male", "2": "Female"}.get(code, "Unknown"), "Unknown")
    quintile = pts.deprivation_quintile.to_numpy("float64")
    pts["deprivation"] = np.where(np.isnan(quintile), "Unknown", np.nan_to_num(quintile).astype(int).astype(str)).astype(object)
    ethnic_group = {code: group for group, codes in rules.ethnicity_groups.items() for code in codes}
    pts["ethnicity_group"] = _recode(pts.ethnicity, lambda e: ethnic_group.get(e, "Unknown"), "Unknown")
    pts["charlson_group"] = _bands(pts.charlson_index.astype("float64"), rules.charlson_band_edges, rules.charlson_bands)
    sources = {"first_mdt": pts.first_mdt_org, "first_metastatic_record": pts.mbc_org}
    allocated = np.full(m, None, dtype=object)
    for name in (*rules.diagnosing_org, "primary"):
        fallback = (sources[name] if name in sources else pts.primary_org).to_numpy(object)
        allocated = np.where(pd.isna(allocated), fallback, allocated)
    pts["diagnosing_org"] = allocated
    pts["financial_year"] = _label_each(mbc_dates, financial_year_label)
    pts["quarter"] = _label_each(mbc_dates, financial_quarter_label)
    for col in ("nation", "ethnicity", "tnm_m", "stage_group", "er_status", "pr_status", "her2_status"):
        pts[col] = pts[col].astype(object).where(pts[col].notna(), np.nan)
    died = (pts.date_of_death.notna() & (pts.date_of_death <= cutoff)).to_numpy()
    end = np.where(died, _dates(pts.date_of_death), cutoff)
    pts["died"] = died
    pts["survival_days"] = ((end - mbc_dates) / DAY).astype(float)
    return Cohort(patients=pts, excluded=excluded, events=events, included_records=included_records,
                  patients_with_records=with_records, rules=rules)


def indicator_flags(indicator: Indicator, cohort: Cohort, data_cutoff: pd.Timestamp) -> pd.DataFrame:
    """Per-patient denominator and numerator membership for one patient-level indicator."""
    pts = cohort.patients
    den = pd.Series(True, index=pts.index)
    spec = indicator.denominator
    for column, value in (spec.get("filter") or {}).items():
        den &= pts[column].isin(value if isinstance(value, list) else [value])
    if spec.get("flag"):
        den &= pts[spec["flag"]].astype(bool)
    if spec.get("exclude_flag"):
        den &= ~pts[spec["exclude_flag"]].astype(bool)
    rule = indicator.numerator
    if rule["kind"] == "death_after_last_sact" and cohort.rules.mortality_requires_complete_followup:
        # Follow-up must cover the whole window after the last treatment.
        followup = (np.datetime64(pd.Timestamp(data_cutoff), "ns") - pts.last_sact_date) / DAY
        den &= followup.ge(rule["days"]).to_numpy()
    num = _numerator(rule, cohort, data_cutoff)
    org = pts[indicator.allocation]
    return pd.DataFrame({"denominator": den, "numerator": num & den, "org_code": org})


def _numerator(rule: dict, cohort: Cohort, data_cutoff: pd.Timestamp) -> pd.Series:
    pts = cohort.patients
    kind = rule["kind"]
    if kind == "flag":
        return pts[rule["column"]].fillna(False).astype(bool)
    if kind == "count":
        return pd.Series(True, index=pts.index)
    if kind == "days_to_event":
        return pts[rule["column"]].le(rule["within_days"]).fillna(False)
    if kind == "death_after_last_sact":
        gap = (pts.date_of_death - pts.last_sact_date) / DAY
        return (pts.died & gap.between(0, rule["days"])).fillna(False)
    if kind == "event_within":
        events = cohort.events[rule["table"]]
        lo, hi = rule["window_days"]
        keep = events.days_from_mbc.between(lo, hi)
        for column, value in (rule.get("where") or {}).items():
            keep &= events[column].isin(value if isinstance(value, list) else [value])
        for column, list_name in (rule.get("where_code_list") or {}).items():
            keep &= events[column].isin(cohort.rules.code_list(list_name))
        if rule.get("drug_group"):
            drugs = cohort.rules.code_list(rule["drug_group"])
            keep &= _category_test(events.drug_names, lambda c: _drugs_in(c, drugs))
        return pd.Series(_any_per_row(events.patient_row.to_numpy()[keep.to_numpy()], len(pts)), index=pts.index)
    raise ValueError(f"numerator kind '{kind}' is not patient-level")

