"""Draft HQIP notification letters: one per organisation and stage at which the audit writes, filled from the
results files."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from naome_report import atomic
from naome_report.config import PROJECT_ROOT, Config
from naome_report.numbers import format_fixed
from naome_report.publish.workbook.model import long_date
from naome_report.restricted import HANDLING, MARKER
from naome_report.outlier_process import OutlierProcess, Stage
from naome_report.restricted.cases import add_working_days, timetable
from naome_report.vocabulary import OUTLIER_STATUS, SUBGROUP

TEMPLATES = PROJECT_ROOT / "templates" / "restricted"


def environment() -> jinja2.Environment:
    """The letters' templates: Markdown, with the project's [[ ]] and [% %] delimiters."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                             lstrip_blocks=True,
                             variable_start_string="[[", variable_end_string="]]",
                             block_start_string="[%", block_end_string="%]")
    env.filters["long_date"] = long_date
    return env


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _percent(value: Any) -> str:
    """One decimal place, halves rounded away from zero (the rounding every output uses); [c] when withheld."""
    number = _number(value)
    if number is None:
        return "[c]"
    return f"{format_fixed(number, 1)}%"


def _count(value: Any) -> str:
    number = _number(value)
    return "[c]" if number is None else format_fixed(number, 0, thousands=True)


def case_rows(cases: pd.DataFrame) -> list[dict[str, Any]]:
    """What a letter says of each case, from its results row."""
    rows = []
    for _, case in cases.iterrows():
        adjusted = _number(case.get("adjusted_percentage"))
        rows.append({
            "reference": case["case_reference"],
            "indicator": case["indicator_title"],
            "patient_group": SUBGROUP[case["subgroup"]].long.capitalize() if case["subgroup"] in SUBGROUP
            else case["subgroup"],
            "period": case["period"],
            "value": _percent(case["adjusted_percentage"] if adjusted is not None else case["percentage"]),
            "counts": f"{_count(case['numerator'])} of {_count(case['denominator'])}",
            "national": _percent(case["national_percentage"]),
            "limits_95": f"{_percent(case['funnel_lower_95'])} to {_percent(case['funnel_upper_95'])}",
            "limits_998": f"{_percent(case['funnel_lower_998'])} to {_percent(case['funnel_upper_998'])}",
            "status": OUTLIER_STATUS[case["outlier_status"]].short,
            "adjusted": (f"the result is the case-mix adjusted percentage (observed {_percent(case['percentage'])}, "
                         f"observed / expected {format_fixed(float(case['observed_expected']), 2)})") if adjusted is not None
            and _number(case.get("observed_expected")) is not None else "",
            "method": str(case.get("funnel_method") or ""),
            "withheld": _number(case["numerator"]) is None,
        })
    return rows


def _capital(text: str) -> str:
    """A recipient as it starts a line ('the Care Quality Commission (CQC)' -> 'The Care ...')."""
    return text[:1].upper() + text[1:]


def letter_name(org_code: str, stage: Stage, letter: str) -> str:
    return f"{org_code}_{stage.level}_stage{stage.number}_{letter}.md"


def write_letters(cases: pd.DataFrame, process: OutlierProcess, config: Config, synthetic: bool, period: str,
                  folder: Path) -> dict[tuple[str, str, int], list[str]]:
    """Every letter of every organisation in the process; returns, per (organisation, level, stage), the letters'
    paths relative to the restricted folder."""
    env = environment()
    audit = config.section("audit")
    publication = date.fromisoformat(str(config.section("publication")["date"]))
    written: dict[tuple[str, str, int], list[str]] = {}
    for (org_code, level), group in cases.groupby(["org_code", "outlier_level"], sort=True):
        nation = str(group["nation"].iloc[0])
        plan = timetable(process.for_nation(nation), level, nation, publication)
        rows = case_rows(group)
        for i, (stage, due) in enumerate(plan):
            # The answer a letter asks for is due at the next stage with a limit; a last letter (a reminder)
            # asks for it within its own stage's limit.
            reply_by, reply_days = next(((d, s.working_days) for s, d in plan[i + 1:]
                                         if d is not None and not s.at_publication), (None, stage.working_days))
            if reply_by is None and due is not None:
                reply_by = add_working_days(due, stage.working_days, nation)
            confirmed = next((d for s, d in plan if "alarm_confirmed" in s.letters), None)
            for letter in stage.letters:
                text = env.get_template(f"{letter}.md.j2").render(
                    handling=HANDLING, marker=MARKER, synthetic=synthetic, audit=audit,
                    org={"code": org_code, "name": group["org_name"].iloc[0], "nation": nation},
                    to=_capital(process.regulator[nation] if letter == "alarm_regulator" else stage.to),
                    copy="" if letter == "alarm_regulator" else _capital(stage.copy),
                    cases=rows, methods=sorted({r["method"] for r in rows if r["method"]}),
                    withheld=any(r["withheld"] for r in rows), guidance=process.the_guidance, period=period,
                    regulator=process.regulator[nation], government=process.government[nation],
                    due=due, reply_by=reply_by, reply_days=reply_days,
                    review_days=next((s.working_days for s, _ in plan[i + 2:i + 3]), 0),
                    confirmed_on=confirmed, publication=publication,
                )
                target = folder / org_code / letter_name(org_code, stage, letter)
                target.parent.mkdir(parents=True, exist_ok=True)
                atomic.write_text(target, text)
                written.setdefault((org_code, level, stage.number), []).append(
                    target.relative_to(folder.parent).as_posix())
    return written
