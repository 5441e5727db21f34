"""The cases in the HQIP outlier process (from the results files) and each case's timetable of dates due (the
stages and working-day limits come from naome_report.outlier_process)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

from naome_report.hub import Results
from naome_report.outlier_process import OutlierProcess, Stage
from naome_report.publish.workbook import file_safe_period
from naome_report.registry import Registry
from naome_report.stats.outliers import unfavourable_side

STATUS_LEVEL = {"alarm_high": "alarm", "alarm_low": "alarm", "alert_high": "alert", "alert_low": "alert"}
BANK_HOLIDAY_AREA = {"England": "ENG", "Wales": "WLS"}


@lru_cache(maxsize=4)
def _bank_holidays(area: str, first_year: int, last_year: int) -> tuple[str, ...]:
    days = holidays.country_holidays("GB", subdiv=area, years=range(first_year, last_year + 1))
    return tuple(sorted(d.isoformat() for d in days))


def add_working_days(start: date, days: int, nation: str = "England") -> date:
    """The date `days` working days after `start` (weekends and the nation's bank holidays skipped; a start on a
    non-working day counts from the next working day)."""
    area = BANK_HOLIDAY_AREA.get(nation, "ENG")
    off = _bank_holidays(area, start.year, start.year + 1 + days // 200)
    return np.busday_offset(np.datetime64(start, "D"), days, roll="forward", holidays=list(off)).astype(date)


def case_reference(period: str, org_code: str, indicator_id: str, subgroup: str) -> str:
    """NAOME-OP-<period>-<organisation>-<indicator>[-<patient group>]."""
    tail = "" if subgroup == "all" else f"-{subgroup}"
    return f"NAOME-OP-{file_safe_period(period)}-{org_code}-{indicator_id}{tail}"


def outlier_cases(results: Results, registry: Registry, process: OutlierProcess) -> pd.DataFrame:
    """Organisation results of the headline period at an unfavourable alarm or alert, for indicators in the process.

    A result beyond the limits on the favourable side is told to the organisation in its pack ("no escalation")
    and enters no stage, letter or tracker row.
    """
    frame = results.indicators
    side = frame["outlier_status"].astype(str).str.rpartition("_")[2]
    unfavourable = frame["indicator_id"].map(
        {ind.id: unfavourable_side(ind.direction) for ind in registry}).fillna("")
    keep = (frame["level"].eq("organisation") & frame["period"].eq(results.primary_period)
            & frame["subgroup"].isin(process.subgroups) & frame["outlier_status"].isin(list(STATUS_LEVEL))
            & frame["outlier_process"].fillna("").astype(str).str.lower().eq("yes") & side.eq(unfavourable))
    cases = frame.loc[keep].copy()
    order = {ind.id: i for i, ind in enumerate(registry)}
    cases["outlier_level"] = cases["outlier_status"].map(STATUS_LEVEL)
    cases["case_reference"] = [case_reference(p, o, i, s) for p, o, i, s in
                               zip(cases["period"], cases["org_code"], cases["indicator_id"], cases["subgroup"])]
    cases["_order"] = cases["indicator_id"].map(order)
    return cases.sort_values(["org_code", "outlier_level", "_order", "subgroup"]).drop(columns="_order")


def timetable(process: OutlierProcess, level: str, nation: str, publication: date) -> list[tuple[Stage, date | None]]:
    """Each stage with the date it is due if every earlier stage takes its full time; None where there is no limit.

    Stage 1 counts from the process's start date; a publication stage is due on the publication date.
    """
    due: list[tuple[Stage, date | None]] = []
    last = process.start
    for stage in process.stages_of(level):
        if stage.at_publication:
            due.append((stage, publication))
        elif stage.working_days:
            last = add_working_days(last, stage.working_days, nation)
            due.append((stage, last))
        else:
            due.append((stage, None))
    return due
