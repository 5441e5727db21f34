"""naome_survival_comparison.csv: survival in England and in Wales compared by the log-rank test, overall, by route and by subtype."""

from __future__ import annotations

import numpy as np
import pandas as pd

from naome_report.cohort import Cohort
from naome_report.config import Config
from naome_report.stats.disclosure import suppress_rows
from naome_report.stats.logrank import logrank_two_groups
from naome_report.vocabulary import SUBGROUP

NATIONS = ("England", "Wales")


def survival_comparison_table(cohort: Cohort, orgs: pd.DataFrame, config: Config, synthetic: bool) -> pd.DataFrame:
    """Per group and nation: patients, deaths, log-rank expected deaths, and the test of England against Wales.

    Patients count against the nation of their diagnosing organisation, as in naome_survival.csv; the
    test uses follow-up to death or the data cut-off. A group whose counts are suppressed in either
    nation has no test published (its statistic could reveal them).
    """
    pts = cohort.patients
    nation = pts.diagnosing_org.map(orgs.set_index("org_code").nation).to_numpy(object)
    placed = np.isin(nation, NATIONS)
    in_wales = nation == "Wales"
    groups = [("all", "All", np.ones(len(pts), bool))]
    groups += [("route", SUBGROUP[r].short, (pts.route == r).to_numpy()) for r in ("de_novo", "recurrent")]
    groups += [("subtype", s, (pts.subtype == s).to_numpy()) for s in sorted(pts.subtype.dropna().unique())]
    rows = []
    for group_type, label, members in groups:
        mask = members & placed
        test = logrank_two_groups(pts.survival_days.to_numpy(float)[mask], pts.died.to_numpy(bool)[mask], in_wales[mask])
        for name, second in zip(NATIONS, (False, True)):
            chosen = mask & (in_wales == second)
            rows.append({"group_type": group_type, "group": label, "nation": name, "patients": int(chosen.sum()),
                         "deaths": int(pts.died.to_numpy(bool)[chosen].sum()),
                         "expected_deaths": test.expected_2 if second else test.expected_1,
                         "chi_squared": test.statistic, "p_value": test.p_value})
    frame = pd.DataFrame(rows)
    rules = config.section("disclosure")
    # England and Wales add up to the national counts published in naome_survival.csv.
    decision = suppress_rows(frame.deaths, frame.patients, [(frame.group_type + "|" + frame.group).to_numpy(object)],
                             low=rules["suppress_low"], high=rules["suppress_high"], min_denominator=0)
    hidden = pd.Series(decision.hidden.to_numpy()).groupby([frame.group_type, frame.group]).transform("any").to_numpy()
    frame["test"] = "log_rank"
    frame["status"] = np.where(hidden, "suppressed", np.where(frame.chi_squared.notna(), "published", "not_estimable"))
    for column in ("patients", "deaths", "expected_deaths", "chi_squared", "p_value"):
        frame[column] = frame[column].where(~hidden)
    frame["difference_beyond_chance"] = np.where(frame.status == "published",
                                                 np.where(frame.p_value < 0.05, "yes", "no"), "")
    frame["synthetic_data"] = "yes" if synthetic else "no"
    return frame
