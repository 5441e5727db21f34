"""The HQIP outlier process: its stages and working-day limits (from configuration), the cases in it (from the
results files) and each case's timetable of dates due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

from naome_report.config import Config, ConfigError
from naome_report.hub import Results
from naome_report.publish.workbook import file_safe_period
from naome_report.registry import Registry

LEVELS = ("alarm", "alert")
STATUS_LEVEL = {"alarm_high": "alarm", "alarm_low": "alarm", "alert_high": "alert", "alert_low": "alert"}
BANK_HOLIDAY_AREA = {"England": "ENG", "Wales": "WLS"}


@dataclass(frozen=True)
class Stage:
    """One stage of the process for alarms or alerts: who acts, what they do, within how many working days
    of the previous stage's date (0: no limit), and the draft letters the audit sends at it."""

    level: str
    number: int
    by: str
    action: str
    working_days: int
    letters: tuple[str, ...]
    to: str
    copy: str
    at_publication: bool


@dataclass(frozen=True)
class Process:
    """The configured process: its guidance, start date, patient groups, stages and who is told."""

    guidance: str
    start: date
    subgroups: tuple[str, ...]
    stages: tuple[Stage, ...]
    regulator: dict[str, str]
    government: dict[str, str]

    def stages_of(self, level: str) -> list[Stage]:
        return [s for s in self.stages if s.level == level]


def load_process(config: Config) -> Process:
    """The [outlier_process] section, checked: each problem names the key and the stage."""
    section = config.section("outlier_process")
    where = f"{config.source}: [outlier_process]"
    stages = []
    for i, raw in enumerate(section.get("stages", []), start=1):
        name = f"{where} stages entry {i}"
        missing = {"level", "stage", "by", "action", "working_days"} - set(raw)
        if missing:
            raise ConfigError(f"{name}: missing {', '.join(sorted(missing))}")
        if raw["level"] not in LEVELS:
            raise ConfigError(f"{name}: level must be one of {', '.join(LEVELS)}, not {raw['level']!r}")
        if not isinstance(raw["working_days"], int) or raw["working_days"] < 0:
            raise ConfigError(f"{name}: working_days must be a whole number of days, 0 for no limit")
        stages.append(Stage(raw["level"], int(raw["stage"]), str(raw["by"]), str(raw["action"]),
                            raw["working_days"], tuple(raw.get("letters", [])), str(raw.get("to", "")),
                            str(raw.get("copy", "")), bool(raw.get("at_publication", False))))
    for level in LEVELS:
        numbers = [s.number for s in stages if s.level == level]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ConfigError(f"{where}: the {level} stages must be numbered 1, 2, 3... in order, not {numbers}")
    try:
        start = date.fromisoformat(str(section["start_date"]))
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"{where}: start_date must be a date (YYYY-MM-DD): {exc}") from exc
    guidance = str(config.section("outliers")["guidance"])
    guidance = guidance if guidance.lower().startswith("the ") else f"the {guidance}"
    return Process(guidance, start, tuple(section.get("subgroups", ["all"])), tuple(stages),
                   dict(section.get("regulator", {})), dict(section.get("government", {})))


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


def outlier_cases(results: Results, registry: Registry, process: Process) -> pd.DataFrame:
    """Organisation results of the headline period at alarm or alert level, for indicators in the process."""
    frame = results.indicators
    keep = (frame["level"].eq("organisation") & frame["period"].eq(results.primary_period)
            & frame["subgroup"].isin(process.subgroups) & frame["outlier_status"].isin(list(STATUS_LEVEL))
            & frame["outlier_process"].fillna("").astype(str).str.lower().eq("yes"))
    cases = frame.loc[keep].copy()
    order = {ind.id: i for i, ind in enumerate(registry)}
    cases["outlier_level"] = cases["outlier_status"].map(STATUS_LEVEL)
    cases["case_reference"] = [case_reference(p, o, i, s) for p, o, i, s in
                               zip(cases["period"], cases["org_code"], cases["indicator_id"], cases["subgroup"])]
    cases["_order"] = cases["indicator_id"].map(order)
    return cases.sort_values(["org_code", "outlier_level", "_order", "subgroup"]).drop(columns="_order")


def timetable(process: Process, level: str, nation: str, publication: date) -> list[tuple[Stage, date | None]]:
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
