"""Crash-safe file writes: every output is written under a temporary name and renamed into place.

A reader (or a build interrupted at any moment) sees either the previous file or the new one, never
half a file. Temporary files are named `.<name>.naome-tmp-<random>` beside their target, so the
build can sweep up those left by a process that was killed before it could remove them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TEMPORARY_MARK = ".naome-tmp-"
FILE_MODE = 0o644


@contextmanager
def replacing(path: Path | str) -> Iterator[Path]:
    """A temporary path beside `path` to write to; renamed onto `path` when the block ends without error."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}{TEMPORARY_MARK}")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(path: Path | str, data: bytes) -> Path:
    """Write `data` to `path` atomically; return the path."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: Path | str, text: str) -> Path:
    """Write UTF-8 `text` to `path` atomically (newlines as given); return the path."""
    return write_bytes(path, text.encode("utf-8"))


def write_if_changed(path: Path | str, data: bytes) -> Path:
    """Write atomically, and only when the content differs (several processes may share the file)."""
    target = Path(path)
    try:
        if target.read_bytes() == data:
            return target
    except OSError:
        pass
    return write_bytes(target, data)


def is_temporary(path: Path) -> bool:
    """True for a temporary file of this module (left behind only by a process that was killed)."""
    return TEMPORARY_MARK in path.name


def sweep_temporary_files(folder: Path) -> list[Path]:
    """Remove the temporary files a killed build left under `folder`; return what was removed."""
    removed = []
    if not Path(folder).is_dir():
        return removed
    for path in Path(folder).rglob(f"*{TEMPORARY_MARK}*"):
        if path.is_file() and is_temporary(path):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
