"""A small, realistic set of published results files, for the workbook and restricted-output tests.

Every value is made here from simple rules, so the tests know what each cell must hold without reading the
module under test.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from naome_report.hub import FILES, META_FILE
from naome_report.registry import load_registry

EVIL_NAME = '=HYPERLINK("http://x","y")'
PRIMARY = "2023/24-2025/26"
YEARS = ["2023/24", "2024/25", "2025/26"]
IN_PROCESS = {"mdt", "mort30_sact"}

UNITS = [
    # level, nation, region_code, region_name, parent_code, parent_name, org_code, org_name
    ("national", "England and Wales", "", "", "", "", "K04000001", "England and Wales"),
    ("nation", "England", "", "", "K04000001", "England and Wales", "E92000001", "England"),
    ("nation", "Wales", "", "", "K04000001", "England and Wales", "W92000004", "Wales"),
    ("region", "England", "Y62", "North West", "E92000001", "England", "Y62", "North West"),
    ("alliance", "England", "Y62", "North West", "Y62", "North West", "E56000005", "Cheshire and Merseyside"),
    ("alliance", "Wales", "", "", "W92000004", "Wales", "W-NORTH", "North Wales"),
    ("organisation", "England", "Y62", "North West", "E56000005", "Cheshire and Merseyside", "ZAA",
     "Fairfield and District NHS Foundation Trust"),
    ("organisation", "England", "Y62", "North West", "E56000005", "Cheshire and Merseyside", "ZZX", EVIL_NAME),
    ("organisation", "England", "Y62", "North West", "E56000005", "Cheshire and Merseyside", "ZZY",
     "-minus @at +plus Trust"),
    ("organisation", "Wales", "", "", "W-NORTH", "North Wales", "7A1", "Betsi Cadwaladr University Health Board"),
]
INDICATORS = [("mdt", "all"), ("mdt", "de_novo"), ("biopsy", "all"), ("time_to_sact", "all"),
              ("mort30_sact", "all"), ("cpes_cns", "all"), ("ascertainment", "all")]


def wilson(x: int, n: int) -> tuple[float, float]:
    z = 1.959963984540054
    centre = 2 * x + z * z
    spread = z * math.sqrt(z * z + 4 * x * (1 - x / n))
    return 100 * (centre - spread) / (2 * (n + z * z)), 100 * (centre + spread) / (2 * (n + z * z))


def row_status(unit: tuple, ind: str, period: str) -> str:
    level, nation, *_rest, org_code, _name = unit
    if ind == "cpes_cns" and nation == "Wales":
        return "not_applicable"
    if ind == "biopsy" and nation == "Wales" and period == "2024/25":
        return "not_available"
    if level == "organisation" and org_code == "ZZY" and ind == "mdt":
        return "suppressed"
    if level == "organisation" and org_code == "7A1" and ind == "mort30_sact":
        return "too_few"
    return "published"


def _indicator_rows() -> list[dict]:
    registry = load_registry()
    rows = []
    periods = [(PRIMARY, "pooled"), *((y, "financial_year") for y in YEARS), ("2024/25 Q1", "quarter")]
    columns = list(FILES["naome_indicators.csv"])
    for p_i, (period, ptype) in enumerate(periods):
        for i_i, (ind, subgroup) in enumerate(INDICATORS):
            for u_i, unit in enumerate(UNITS):
                k = p_i * 97 + i_i * 13 + u_i * 7
                level, nation, rc, rn, pc, pn, oc, on = unit
                status = row_status(unit, ind, period)
                n = 40 + (k * 37) % 400 if level == "organisation" else 400 + (k * 53) % 4000
                x = (n * (30 + k % 60)) // 100
                row = {c: "" for c in columns}
                row.update(period=period, period_type=ptype, level=level, nation=nation, region_code=rc,
                           region_name=rn, parent_code=pc, parent_name=pn, org_code=oc, org_name=on,
                           indicator_id=ind, indicator_title=registry.get(ind).title, subgroup=subgroup,
                           status=status, synthetic_data="yes")
                if level == "organisation":
                    row["outlier_process"] = "yes" if ind in IN_PROCESS else "no"
                    row["outlier_status"] = "not_in_process" if ind not in IN_PROCESS else ""
                if status == "published":
                    lo, hi = wilson(x, n)
                    row.update(numerator=x, denominator=n, percentage=100 * x / n, ci_lower_95=lo, ci_upper_95=hi,
                               national_percentage=100 * 0.55 + k % 7 / 3)
                    if level != "national":
                        row["vs_national"] = ["similar", "better", "worse"][k % 3]
                    if level in ("organisation", "alliance"):
                        row.update(comparator_code=pc, comparator_name=pn, comparator_percentage=50 + k % 11,
                                   vs_comparator=["similar", "worse", "better"][k % 3])
                    if ptype == "financial_year" and period != YEARS[0]:
                        row.update(previous_percentage=40 + k % 13, change_points=(k % 9) - 4.25,
                                   change_ci_lower_95=(k % 9) - 9.5, change_ci_upper_95=(k % 9) + 1,
                                   change_significant="no")
                    if ind == "ascertainment":
                        row.update(denominator="", percentage="", ci_lower_95="", ci_upper_95="",
                                   national_percentage="", vs_national="", comparator_percentage="",
                                   vs_comparator="", previous_percentage="", change_points="",
                                   change_ci_lower_95="", change_ci_upper_95="", change_significant="")
                    if ind == "time_to_sact":
                        row["median_days"] = 20 + k % 30 + 0.5 * (k % 2)
                    if level == "organisation" and ind != "ascertainment":
                        row.update(funnel_lower_95=50.1234, funnel_upper_95=70.9876, funnel_lower_998=45.5,
                                   funnel_upper_998=75.25, funnel_method="Binomial (Spiegelhalter 2005)",
                                   funnel_position=["within", "below_95", "above_998"][k % 3])
                        if ind in IN_PROCESS:
                            row["outlier_status"] = ["within_limits", "alert_low", "alarm_high"][k % 3]
                    if level == "organisation" and ind == "mort30_sact":
                        row.update(expected=x * 1.1 + 0.123, observed_expected=1 / 1.1,
                                   adjusted_percentage=100 * x / n / 1.1, adjusted_ci_lower_95=100 * x / n / 1.1 - 3,
                                   adjusted_ci_upper_95=100 * x / n / 1.1 + 3.5)
                    if ind == "mdt" and nation == "Wales":
                        row["completeness_flag"] = "Low completeness: MDT date recorded 55.0% (threshold 70%)"
                elif status == "suppressed":
                    row.update(status_note="Fewer than 5 patients", funnel_position="not_assessed",
                               outlier_status="within_limits")
                elif status == "too_few":
                    row.update(numerator=3 + k % 5, denominator=8, status_note="Denominator under 10",
                               funnel_position="not_assessed", outlier_status="not_assessed", outlier_note="too_few")
                elif status == "not_available":
                    row.update(status_note="Biopsy data were not available for Wales for 2024/25")
                else:
                    row.update(status_note="The survey covers England only")
                rows.append(row)
    return rows


def _survival_rows() -> list[dict]:
    rows = []
    for unit in UNITS[:3] + UNITS[6:7]:
        for group_type, group in [("all", "All"), ("route", "De novo"), ("route", "Recurrent")]:
            for t in (1, 3):
                level, nation, rc, rn, pc, pn, oc, on = unit
                row = {c: "" for c in FILES["naome_survival.csv"]}
                row.update(period=PRIMARY, period_type="pooled", level=level, nation=nation, region_code=rc,
                           region_name=rn, parent_code=pc, parent_name=pn, org_code=oc, org_name=on,
                           group_type=group_type, group=group, time_years=t, synthetic_data="yes")
                if level == "organisation" and group == "Recurrent":
                    row.update(status="suppressed", status_note="Fewer than 5 deaths")
                else:
                    pct = 65.4321 if t == 1 else 44.0123
                    row.update(patients=1234, deaths=600 + t, survival_percentage=pct, ci_lower_95=pct - 2.5,
                               ci_upper_95=pct + 2.25, at_risk=900 - 100 * t, status="published")
                rows.append(row)
    return rows


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    """Floats to 6 decimals, as a publisher writes them."""
    rows = [{k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()} for row in rows]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def write_fixture_data(data_dir: Path, synthetic: bool = True) -> Path:
    """Every hub file (indicators and survival filled, the rest header-only) and the run metadata."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, columns in FILES.items():
        rows = {"naome_indicators.csv": _indicator_rows(), "naome_survival.csv": _survival_rows()}.get(name, [])
        names = list(columns)
        _write_csv(data_dir / name, names, [{k: r.get(k, "") for k in names} for r in rows])
    meta = {"primary_period": PRIMARY, "data_cutoff": "2026-09-30", "synthetic": synthetic,
            "definitions_version": "2026.1 (reconstructed)", "built_at": "2026-11-25T10:00:00"}
    (data_dir / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    return data_dir
