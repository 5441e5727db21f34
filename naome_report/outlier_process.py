"""The HQIP outlier process of [outlier_process] in the configuration, read and checked once for every output that states it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from naome_report.config import Config, ConfigError

SECTION = "outlier_process"
LEVELS = ("alarm", "alert")  # the levels that have stages
WORDING = ("alarm", "alert", "favourable", "within")  # what a result in the process can be, for its wording
NATIONS = ("England", "Wales")
STAGE_KEYS = ("level", "who", "action", "working_days", "letters", "to", "copy", "at_publication")
PLACEHOLDERS = "{audit}, {regulator}, {government} or {respond_to}"


@dataclass(frozen=True)
class Stage:
    """One stage of the process for alarms or alerts: who acts, what they do, within how many working days of the
    previous stage (0: no limit), and the draft letters the audit writes at it, with their recipients."""

    level: str
    number: int
    who: str
    action: str
    working_days: int
    letters: tuple[str, ...]
    to: str
    copy: str
    at_publication: bool


@dataclass(frozen=True)
class OutlierProcess:
    """The configured process; its text holds {audit}, {regulator}, {government} and {respond_to} until `for_nation`."""

    guidance: str
    start: date
    subgroups: tuple[str, ...]
    stages: tuple[Stage, ...]
    meaning: dict[str, str]
    next_steps: dict[str, str]
    respond_to: str
    contact: str
    regulator: dict[str, str]
    government: dict[str, str]
    audit: str

    @property
    def the_guidance(self) -> str:
        """The guidance's name as it reads inside a sentence ('Under the HQIP ... Guidance')."""
        return self.guidance if self.guidance.lower().startswith("the ") else f"the {self.guidance}"

    def stages_of(self, level: str) -> tuple[Stage, ...]:
        """The stages of alarms or of alerts, in order."""
        return tuple(s for s in self.stages if s.level == level)

    def for_nation(self, nation: str) -> OutlierProcess:
        """The process as it reads for an organisation in England or Wales: every placeholder filled."""
        return self.filled(self.regulator[nation], self.government[nation])

    def filled(self, regulator: str, government: str) -> OutlierProcess:
        """The process with {regulator} and {government} as given (for_nation gives a nation's bodies)."""
        words = {"audit": self.audit, "regulator": regulator, "government": government}
        words["respond_to"] = self.respond_to.format_map(words)

        def fill(text: str) -> str:
            return text.format_map(words)

        return replace(
            self,
            stages=tuple(replace(s, who=fill(s.who), action=fill(s.action), to=fill(s.to), copy=fill(s.copy))
                         for s in self.stages),
            meaning={k: fill(v) for k, v in self.meaning.items()},
            next_steps={k: fill(v) for k, v in self.next_steps.items()},
            respond_to=words["respond_to"],
        )


def _text(table: dict[str, Any], key: str, where: str, required: bool = True) -> str:
    value = table.get(key, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ConfigError(f"{where}: {key} must be {'non-empty ' if required else ''}text, not {value!r}")
    return value.strip()


def _by_nation(section: dict[str, Any], key: str, where: str) -> dict[str, str]:
    value = section.get(key)
    if not isinstance(value, dict) or any(not isinstance(value.get(n), str) or not value[n] for n in NATIONS):
        raise ConfigError(f"{where}: {key} must name one body for each of {', '.join(NATIONS)}, not {value!r}")
    return {n: value[n] for n in NATIONS}


def _stage(index: int, entry: Any, numbers: dict[str, int], where: str) -> Stage:
    here = f"{where} stages entry {index}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{here}: must be a [[{SECTION}.stages]] table with level, who and action")
    unknown = sorted(set(entry) - set(STAGE_KEYS))
    if unknown:
        raise ConfigError(f"{here}: unknown key(s) {', '.join(unknown)}; the keys are {', '.join(STAGE_KEYS)}")
    level = entry.get("level")
    if level not in LEVELS:
        raise ConfigError(f"{here}: level must be one of {', '.join(LEVELS)}, not {level!r}")
    days = entry.get("working_days", 0)
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise ConfigError(f"{here}: working_days must be a whole number of days (0 or left out: no limit), not {days!r}")
    letters = entry.get("letters", [])
    if not isinstance(letters, list) or not all(isinstance(x, str) and x for x in letters):
        raise ConfigError(f"{here}: letters must be a list of letter names, not {letters!r}")
    if letters and not entry.get("to"):
        raise ConfigError(f"{here}: to must name who the letters {', '.join(letters)} go to")
    at_publication = entry.get("at_publication", False)
    if not isinstance(at_publication, bool):
        raise ConfigError(f"{here}: at_publication must be true or false, not {at_publication!r}")
    numbers[level] = numbers.get(level, 0) + 1
    return Stage(level, numbers[level], _text(entry, "who", here), _text(entry, "action", here), days,
                 tuple(letters), _text(entry, "to", here, required=False), _text(entry, "copy", here, required=False),
                 at_publication)


def load_outlier_process(config: Config) -> OutlierProcess:
    """The [outlier_process] section, checked: each problem names the key (and the stage), and every text must
    fill in for both nations."""
    section = config.section(SECTION)
    where = f"{config.source}: [{SECTION}]"
    entries = section.get("stages")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{where}: needs [[{SECTION}.stages]] tables, at least one for each of {', '.join(LEVELS)}")
    numbers: dict[str, int] = {}
    stages = tuple(_stage(i, entry, numbers, where) for i, entry in enumerate(entries, start=1))
    missing = [level for level in LEVELS if level not in numbers]
    if missing:
        raise ConfigError(f"{where}: no [[{SECTION}.stages]] of level {', '.join(missing)}")
    try:
        start = date.fromisoformat(str(section["start_date"]))
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"{where}: start_date must be a date (YYYY-MM-DD): {exc}") from exc
    subgroups = section.get("subgroups", ["all"])
    if not isinstance(subgroups, list) or not subgroups or not all(isinstance(s, str) for s in subgroups):
        raise ConfigError(f"{where}: subgroups must be a list of patient groups, e.g. [\"all\"], not {subgroups!r}")
    audit = config.section("audit")
    process = OutlierProcess(
        guidance=_text(section, "guidance", where), start=start, subgroups=tuple(subgroups), stages=stages,
        meaning={level: _text(section, f"{level}_meaning", where) for level in WORDING},
        next_steps={level: _text(section, f"{level}_next", where) for level in WORDING},
        respond_to=_text(section, "respond_to", where), contact=str(audit.get("contact", "")),
        regulator=_by_nation(section, "regulator", where), government=_by_nation(section, "government", where),
        audit=str(audit["short_name"]),
    )
    for nation in NATIONS:
        try:
            process.for_nation(nation)
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"{where}: a text has a placeholder that cannot be filled: {exc}; "
                              f"use {PLACEHOLDERS}") from exc
    return process
