"""One naome-report at a time in an output folder: an exclusive lock, released by the system if the holder dies."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from naome_report.errors import NaomeError

logger = logging.getLogger("naome_report.lock")
LOCK_FILE = ".naome-report.lock"


class OutputLocked(NaomeError):
    """Another naome-report process is writing into the same output folder."""


def _holder(fd: int) -> dict:
    """Who wrote the lock file last (empty when it was released cleanly)."""
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode("utf-8", "replace").strip()
    try:
        holder = json.loads(text) if text else {}
    except ValueError:
        holder = {"pid": "?", "command": text[:80]}
    return holder if isinstance(holder, dict) else {}


def _describe(holder: dict) -> str:
    started = holder.get("started")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if isinstance(started, (int, float)) else "?"
    return (f"process {holder.get('pid', '?')} on {holder.get('host', '?')}, "
            f"`{holder.get('command', 'naome-report')}`, since {when}")


@contextmanager
def output_lock(folder: Path, command: str | None = None) -> Iterator[str | None]:
    """Hold the output folder's lock for the block; yield a note when a dead process's lock was taken over.

    A second holder is refused with OutputLocked naming the first. The lock is an flock on
    `<folder>/.naome-report.lock`: the system releases it when its holder (and every process that
    inherited it) ends, however it ends; the file then still names the dead holder, which is how a
    stale lock is recognised and reported.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputLocked(f"{folder}: another naome-report is writing here ({_describe(_holder(fd))}); "
                               "wait for it to finish, or stop it, then run this again") from None
        previous = _holder(fd)
        note = None
        if previous:
            note = (f"took over the lock of {folder} left by {_describe(previous)}, which ended without "
                    "releasing it; files it was writing are rebuilt")
            logger.warning("%s", note)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": round(time.time(), 1),
              "command": command or " ".join(["naome-report", *sys.argv[1:]])}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode("utf-8"), 0)
        try:
            yield note
        finally:
            os.ftruncate(fd, 0)  # released cleanly: the next holder finds it empty
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
