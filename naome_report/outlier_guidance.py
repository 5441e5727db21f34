"""What happens after an alert or alarm under the HQIP outlier guidance: [outlier_management] of the configuration, checked once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from naome_report.config import Config, ConfigError

SECTION = "outlier_management"
LEVELS = ("alarm", "alert", "favourable", "within")  # what a result in the process can be, for its wording
NATIONS = ("England", "Wales")


@dataclass(frozen=True)
class Stage:
    """One stage of the alarm process: who acts, what they do, and within how many working days of the stage before."""

    number: int
    who: str
    action: str
    working_days: int | None


@dataclass(frozen=True)
class OutlierGuidance:
    """The stages and wording, with {audit}, {regulator}, {government} and {respond_to} filled in by `for_nation`."""

    guidance: str
    stages: tuple[Stage, ...]
    meaning: dict[str, str]
    next_steps: dict[str, str]
    respond_to: str
    contact: str
    regulator: dict[str, str]
    government: dict[str, str]
    audit: str

    def for_nation(self, nation: str) -> OutlierGuidance:
        """The wording for an organisation in England or Wales."""
        words = {"audit": self.audit, "regulator": self.regulator[nation], "government": self.government[nation]}
        words["respond_to"] = self.respond_to.format_map(words)

        def fill(text: str) -> str:
            return text.format_map(words)

        return replace(
            self,
            stages=tuple(replace(s, who=fill(s.who), action=fill(s.action)) for s in self.stages),
            meaning={k: fill(v) for k, v in self.meaning.items()},
            next_steps={k: fill(v) for k, v in self.next_steps.items()},
            respond_to=words["respond_to"],
        )


def _text(section: dict[str, Any], key: str, source: str) -> str:
    value = section.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{source}: [{SECTION}] {key} must be non-empty text")
    return value.strip()


def _by_nation(section: dict[str, Any], key: str, source: str) -> dict[str, str]:
    value = section.get(key)
    if not isinstance(value, dict) or any(not isinstance(value.get(n), str) for n in NATIONS):
        raise ConfigError(f"{source}: [{SECTION}] {key} must name one body for each of {', '.join(NATIONS)}")
    return {n: value[n] for n in NATIONS}


def _stage(number: int, entry: Any, source: str) -> Stage:
    where = f"{source}: [[{SECTION}.alarm_stages]] number {number}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table with who, action and working_days")
    unknown = sorted(set(entry) - {"who", "action", "working_days"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    days = entry.get("working_days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days <= 0):
        raise ConfigError(f"{where}: working_days must be a positive whole number (or left out), not {days!r}")
    return Stage(number, _text(entry, "who", where), _text(entry, "action", where), days)


def load_outlier_guidance(config: Config) -> OutlierGuidance:
    """The stages and wording, every text checked to fill in for both nations (a wrong placeholder is named)."""
    section = config.section(SECTION)
    source = str(config.source)
    stages = section.get("alarm_stages")
    if not isinstance(stages, list) or not stages:
        raise ConfigError(f"{source}: [{SECTION}] needs at least one [[{SECTION}.alarm_stages]] table")
    guidance = OutlierGuidance(
        guidance=_text(section, "guidance", source),
        stages=tuple(_stage(i, entry, source) for i, entry in enumerate(stages, 1)),
        meaning={level: _text(section, f"{level}_meaning", source) for level in LEVELS},
        next_steps={level: _text(section, f"{level}_next", source) for level in LEVELS},
        respond_to=_text(section, "respond_to", source),
        contact=str(config.section("audit").get("contact", "")),
        regulator=_by_nation(section, "regulator", source),
        government=_by_nation(section, "government", source),
        audit=str(config.section("audit")["short_name"]),
    )
    for nation in NATIONS:
        try:
            guidance.for_nation(nation)
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"{source}: [{SECTION}] text has a placeholder that cannot be filled: {exc}; "
                              "use {audit}, {regulator}, {government} or {respond_to}") from exc
    return guidance
