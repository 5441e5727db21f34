"""output/manifest.json: the SHA-256 of what a build read (inputs, configuration, registry, code) and of every output.

`naome-report verify` checks an output folder against it: a missing, changed or unexpected file is
named. The manifest holds no time and no absolute path, so the same build in two folders gives the
same manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from naome_report import __version__, atomic
from naome_report.config import DEFAULT_CONFIG, PROJECT_ROOT, SYNTHETIC_FOLDER, Config
from naome_report.errors import NaomeError
from naome_report.lock import LOCK_FILE

MANIFEST_FILE = "manifest.json"
STATE_FILE = ".build-state.json"
_CHUNK = 1 << 20
# Written by the build for itself, not outputs: the manifest, the stage state, the lock, the log.
MACHINERY = {MANIFEST_FILE, STATE_FILE, LOCK_FILE}


class ManifestError(NaomeError):
    """An output folder that cannot be verified (no manifest, or an unreadable one)."""


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class DigestCache:
    """File digests, each computed once while the file is unchanged (same size and modification time)."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[int, int, str]] = {}

    def __call__(self, path: Path) -> str:
        stat = path.stat()
        key = str(path)
        hit = self._known.get(key)
        if hit and hit[:2] == (stat.st_size, stat.st_mtime_ns):
            return hit[2]
        digest = sha256_file(path)
        self._known[key] = (stat.st_size, stat.st_mtime_ns, digest)
        return digest


def is_output(relative: Path, log_file: str | None = None) -> bool:
    """Whether a file of the output folder is an output (not the build's machinery or the synthetic input)."""
    parts = relative.parts
    return not (relative.name in MACHINERY or relative.as_posix() == log_file or parts[0] == SYNTHETIC_FOLDER
                or any(p.startswith(".") for p in parts) or "__pycache__" in parts or atomic.is_temporary(relative))


def output_files(output_dir: Path, log_file: Path | None = None) -> list[Path]:
    """Every output in the folder, sorted, as paths relative to it."""
    log = _relative_posix(log_file, output_dir)
    found = []
    for folder, dirs, files in os.walk(output_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            relative = (Path(folder) / name).relative_to(output_dir)
            if is_output(relative, log):
                found.append(relative)
    return sorted(found, key=lambda p: p.as_posix())


def _relative_posix(path: Path | None, folder: Path) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).resolve().relative_to(Path(folder).resolve()).as_posix()
    except ValueError:
        return None


def code_digest() -> str:
    """The SHA-256 of the toolkit's code, templates and report sources (its version, whatever the version number)."""
    digest = hashlib.sha256()
    roots = [Path(__file__).resolve().parent, PROJECT_ROOT / "templates", PROJECT_ROOT / "reports"]
    for root in roots:
        files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                       and p.suffix not in (".pyc",) and "_resources" not in p.relative_to(root).parts)
        for path in files:
            digest.update(f"{root.name}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def build_manifest(config: Config, definitions_version: str, outputs: dict[str, str], inputs: dict[str, str],
                   complete: bool, failed: Iterable[str] = ()) -> dict:
    """The manifest of one build (pure: every digest is given)."""
    files = {"configuration": config.source, "organisations": config.path("organisations"),
             "registry": config.path("indicators")}
    read = {role: {"file": path.name, "sha256": sha256_file(path)} for role, path in files.items()}
    if config.source != DEFAULT_CONFIG:  # the bundled defaults under the analyst's file
        read["default_configuration"] = {"file": DEFAULT_CONFIG.name, "sha256": sha256_file(DEFAULT_CONFIG)}
    read["registry"]["definitions_version"] = definitions_version
    return {
        "naome_report": {"version": __version__, "code_sha256": code_digest()},
        **read,
        "extract": {"synthetic": config.synthetic, "files": dict(sorted(inputs.items()))},
        "data_cutoff": config.data_cutoff.isoformat(),
        "build_time": config.build_time.isoformat(),
        "complete": complete,
        "failed_stages": sorted(failed),
        "outputs": dict(sorted(outputs.items())),
    }


def write_manifest(output_dir: Path, manifest: dict) -> Path:
    """Write output/manifest.json (atomically)."""
    return atomic.write_text(Path(output_dir) / MANIFEST_FILE, json.dumps(manifest, indent=1, sort_keys=False) + "\n")


@dataclass(frozen=True)
class Discrepancy:
    """One file that does not match the manifest."""

    path: str
    problem: str  # missing, changed, unexpected

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def verify_outputs(output_dir: Path, log_file: Path | None = None) -> tuple[dict, list[Discrepancy]]:
    """Compare every output with output/manifest.json: the manifest and each file that is missing, changed or new."""
    path = Path(output_dir) / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        listed: dict[str, str] = manifest["outputs"]
    except FileNotFoundError:
        raise ManifestError(f"{path}: no manifest; build the outputs with `naome-report build` first") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ManifestError(f"{path}: not a readable manifest ({type(exc).__name__}); rebuild with "
                            "`naome-report build --force`") from None
    found = {p.as_posix(): p for p in output_files(Path(output_dir), log_file)}
    problems = []
    for name, expected in listed.items():
        if name not in found:
            problems.append(Discrepancy(name, "missing"))
        elif sha256_file(Path(output_dir) / found[name]) != expected:
            problems.append(Discrepancy(name, "changed since the build (its SHA-256 differs from the manifest)"))
    problems += [Discrepancy(name, "not made by the build (not in the manifest)") for name in found if name not in listed]
    return manifest, problems
