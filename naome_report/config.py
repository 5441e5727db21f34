"""The one configuration object, read once from data/naome.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "data" / "naome.toml"


class ConfigError(Exception):
    """A configuration file that cannot be used."""


@dataclass(frozen=True)
class Config:
    """Typed view of naome.toml; paths resolved against the project root."""

    raw: dict[str, Any] = field(repr=False)
    source: Path

    def section(self, name: str) -> dict[str, Any]:
        """One [section] of the file."""
        try:
            return self.raw[name]
        except KeyError as exc:
            raise ConfigError(f"{self.source}: missing section [{name}]") from exc

    def path(self, key: str) -> Path:
        """A path from [paths], absolute."""
        value = Path(self.section("paths")[key])
        return value if value.is_absolute() else PROJECT_ROOT / value

    @property
    def output_dir(self) -> Path:
        return self.path("output_dir")

    @property
    def extract_dir(self) -> Path:
        return self.path("extract_dir")

    @property
    def data_cutoff(self) -> date:
        return date.fromisoformat(self.section("reporting")["data_cutoff"])

    @property
    def financial_years(self) -> list[str]:
        return list(self.section("reporting")["financial_years"])

    @property
    def primary_period(self) -> str:
        return self.section("reporting")["primary_period"]


def load_config(path: Path | str | None = None, overrides: dict[str, dict[str, Any]] | None = None) -> Config:
    """Read the configuration file (default data/naome.toml), applying section overrides."""
    source = Path(path) if path else DEFAULT_CONFIG
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file not found: {source}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from exc
    for section, values in (overrides or {}).items():
        raw.setdefault(section, {}).update(values)
    return Config(raw=raw, source=source)


@lru_cache(maxsize=1)
def default_config() -> Config:
    """The project's configuration, read once per process."""
    return load_config()
