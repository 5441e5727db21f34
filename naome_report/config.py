"""The one configuration object, read once: the bundled defaults, overlaid by the analyst's file.

Relative paths in a configuration file are resolved against that file's folder, so the toolkit
runs from any working directory, from its checkout or installed from a wheel.
"""

from __future__ import annotations

import copy
import os
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from naome_report.errors import NaomeError

_SOURCE_ROOT = Path(__file__).resolve().parent.parent
_BUNDLED_ROOT = Path(__file__).resolve().parent / "_resources"  # where a wheel carries data/, templates/, reports/


def _project_root() -> Path:
    """The folder holding data/, templates/ and reports/: the checkout, or the copy inside an installed wheel."""
    if (_SOURCE_ROOT / "templates").is_dir() and (_SOURCE_ROOT / "data" / "naome.toml").is_file():
        return _SOURCE_ROOT
    return _BUNDLED_ROOT


PROJECT_ROOT = _project_root()
DEFAULT_CONFIG = PROJECT_ROOT / "data" / "naome.toml"
INSTALLED = PROJECT_ROOT == _BUNDLED_ROOT
LOCAL_CONFIG = "naome.toml"  # used from the working directory when installed and no --config is given
SYNTHETIC_FOLDER = "synthetic-extract"  # under the output folder
SYNTHETIC_MARKER = "SYNTHETIC_DATA.txt"  # in every synthetic extract folder: outputs built from it say so
PATH_KEYS = ("extract_dir", "output_dir", "organisations", "synthetic_organisations", "indicators", "log_file")


class ConfigError(NaomeError):
    """A configuration file that cannot be used."""


@dataclass(frozen=True)
class Config:
    """The merged configuration; every [paths] value is absolute."""

    raw: dict[str, Any] = field(repr=False)
    source: Path

    def section(self, name: str) -> dict[str, Any]:
        """One [section] of the file."""
        try:
            return self.raw[name]
        except KeyError as exc:
            raise ConfigError(f"{self.source}: missing section [{name}]; add it (see {DEFAULT_CONFIG})") from exc

    def path(self, key: str) -> Path:
        """A path from [paths], absolute (log_file defaults to naome-report.log in the output folder)."""
        value = self.section("paths").get(key, "")
        if key == "log_file" and not value:
            return self.output_dir / "naome-report.log"
        if key == "extract_dir":
            return self.extract_dir
        if not value:
            raise ConfigError(f"{self.source}: [paths] {key} is not set; set it to a path (relative paths are "
                              "read from the configuration file's folder)")
        return Path(value)

    @property
    def output_dir(self) -> Path:
        return Path(self.section("paths")["output_dir"])

    @property
    def synthetic(self) -> bool:
        """True when the configuration asks for the synthetic cohort instead of a real extract."""
        return bool(self.raw.get("synthetic", {}).get("enabled", False))

    @property
    def extract_dir(self) -> Path:
        """The folder the extract is read from: the real one (never written to), or the synthetic cohort's own."""
        if self.synthetic:
            return self.output_dir / SYNTHETIC_FOLDER
        value = self.section("paths").get("extract_dir", "")
        if not value:
            raise ConfigError(f"{self.source}: [paths] extract_dir is not set; set it to the folder of the extract "
                              "files, or set [synthetic] enabled = true to build from the synthetic cohort")
        return Path(value)

    @property
    def data_cutoff(self) -> date:
        return date.fromisoformat(self.section("reporting")["data_cutoff"])

    @property
    def financial_years(self) -> list[str]:
        return list(self.section("reporting")["financial_years"])

    @property
    def primary_period(self) -> str:
        return self.section("reporting")["primary_period"]

    @property
    def build_time(self) -> datetime:
        """The one time any output may show: SOURCE_DATE_EPOCH if set, else the data cut-off (00:00 UTC).

        Never the clock, so that building twice gives the same bytes.
        """
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if epoch:
            try:
                return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
            except (ValueError, OverflowError, OSError) as exc:
                raise ConfigError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds since 1970; "
                                  "set it to e.g. $(git log -1 --format=%ct) or unset it") from exc
        cutoff = self.data_cutoff
        return datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=timezone.utc)


def _read_toml(source: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{source}: configuration file not found; pass --config with the path of an existing "
                          "file, or write one with `naome-report init FOLDER`") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{source}: is a folder, not a configuration file; pass --config with the path of the "
                          ".toml file inside it") from exc
    except PermissionError as exc:
        raise ConfigError(f"{source}: configuration file cannot be read (permission denied); give the user running "
                          "naome-report read access to it") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: configuration file is not UTF-8 text; save it as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc}); correct that line") from exc
    except OSError as exc:
        raise ConfigError(f"{source}: configuration file cannot be read ({exc.strerror}); check the path") from exc


def _resolved_paths(raw: dict[str, Any], folder: Path, source: Path) -> dict[str, Any]:
    """The [paths] of one file with relative values made absolute against `folder`; unknown keys refused."""
    paths = raw.get("paths", {})
    unknown = sorted(set(paths) - set(PATH_KEYS))
    if unknown:
        raise ConfigError(f"{source}: [paths] has unknown key(s) {', '.join(unknown)}; the keys are "
                          f"{', '.join(PATH_KEYS)}")
    resolved = {}
    for key, value in paths.items():
        if not isinstance(value, str):
            raise ConfigError(f"{source}: [paths] {key} must be a quoted path, not {value!r}")
        text = os.path.expanduser(value.strip())
        resolved[key] = str((folder / text).resolve()) if text and not Path(text).is_absolute() else text
    return resolved


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for section, values in top.items():
        if isinstance(values, dict) and isinstance(merged.get(section), dict):
            merged[section].update(copy.deepcopy(values))
        else:
            merged[section] = copy.deepcopy(values)
    return merged


def _check(raw: dict[str, Any], source: Path) -> None:
    """Refuse settings that would make the toolkit write into an extract or guess which data to use."""
    enabled = raw.get("synthetic", {}).get("enabled", False)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{source}: [synthetic] enabled must be true or false, not {enabled!r}")
    if enabled and raw.get("paths", {}).get("extract_dir"):
        raise ConfigError(f"{source}: [synthetic] enabled = true and [paths] extract_dir is set; to build from the "
                          "real extract set enabled = false, to build from the synthetic cohort remove extract_dir")
    if not raw.get("paths", {}).get("output_dir"):
        raise ConfigError(f"{source}: [paths] output_dir is not set; set it to the folder the outputs go to")


def default_config_path() -> Path:
    """The configuration used without --config: the checkout's, or naome.toml in the working directory."""
    if not INSTALLED:
        return DEFAULT_CONFIG
    local = Path.cwd() / LOCAL_CONFIG
    if local.is_file():
        return local
    raise ConfigError(f"no configuration: pass --config PATH, or run `naome-report init .` to write {LOCAL_CONFIG} "
                      "here (the bundled defaults would write into the installed package)")


def load_config(path: Path | str | None = None, overrides: dict[str, dict[str, Any]] | None = None) -> Config:
    """The bundled defaults overlaid by the file at `path` (default: default_config_path()) and then `overrides`.

    Relative paths are read from the folder of the file that sets them; relative paths in `overrides`
    from the folder of `path`.
    """
    source = Path(path).expanduser().resolve() if path else default_config_path()
    bundled = _read_toml(DEFAULT_CONFIG)
    bundled["paths"] = _resolved_paths(bundled, DEFAULT_CONFIG.parent, DEFAULT_CONFIG)
    raw = bundled
    if source != DEFAULT_CONFIG:
        own = _read_toml(source)
        own["paths"] = _resolved_paths(own, source.parent, source)
        if own.get("synthetic", {}).get("enabled") is False or own["paths"].get("extract_dir"):
            raw = _merge(raw, {"synthetic": {"enabled": False}})
        raw = _merge(raw, own)
    if overrides:
        top = copy.deepcopy(overrides)
        if "paths" in top:
            top["paths"] = _resolved_paths(top, source.parent, source)
            if top["paths"].get("extract_dir"):
                top.setdefault("synthetic", {}).setdefault("enabled", False)
        raw = _merge(raw, top)
    _check(raw, source)
    return Config(raw=raw, source=source)


@lru_cache(maxsize=1)
def default_config() -> Config:
    """The project's configuration, read once per process."""
    return load_config()


def write_starter_config(folder: Path) -> Path:
    """Write naome.toml (the bundled defaults, outputs to ./output), organisations.csv and indicators.yaml into `folder`."""
    from naome_report import atomic

    folder = Path(folder).expanduser().resolve()
    target = folder / LOCAL_CONFIG
    if target.exists():
        raise ConfigError(f"{target}: already exists; edit it, or choose another folder")
    text = DEFAULT_CONFIG.read_text(encoding="utf-8").replace('output_dir = "../output"', 'output_dir = "output"')
    for name in ("organisations.csv", "indicators.yaml"):
        atomic.write_bytes(folder / name, (DEFAULT_CONFIG.parent / name).read_bytes())
    return atomic.write_text(target, text)
