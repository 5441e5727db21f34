"""Measure a command and every process it starts: wall time, CPU time and peak memory of the tree.

`/usr/bin/time` sees only the processes its command waits for. The build's stage processes come
from multiprocessing's fork server, which the build never waits for, so their CPU time and
memory would be missed. Here the measuring process becomes a child subreaper (Linux): every
process of the tree is reaped by it in the end, so RUSAGE_CHILDREN holds the CPU time of all of
them; a sampler adds up the memory of all live descendants a few times a second.

Memory is reported two ways: the sum of PSS (proportional set size: pages shared between forked
processes counted once, split between them) — the memory the tree really uses — and the sum of RSS,
which counts shared pages once per process and so overstates it.

    python bench/measure.py -- python -m naome_report build --force
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


@dataclass
class Measurement:
    """What one command cost."""

    returncode: int
    wall: float  # seconds
    user: float  # CPU seconds, all processes of the tree
    system: float
    peak_pss_mb: float  # the largest sum over the tree at any sample
    peak_rss_mb: float
    largest_process_mb: float  # the largest single process (what /usr/bin/time %M reports)
    stdout: str = ""
    stderr: str = ""

    @property
    def cpu(self) -> float:
        return self.user + self.system


def _subreaper(on: bool) -> bool:
    """Make this process the reaper of its orphaned descendants (or stop being it); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _descendants(root: int) -> list[int]:
    """All processes below `root` (from /proc: no dependency, and quick)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _memory_kb(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in kB; zeros when it has gone."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith(b"Rss:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


class _Sampler(threading.Thread):
    def __init__(self, interval: float) -> None:
        super().__init__(daemon=True)
        self.interval, self.stop, self.peak_pss, self.peak_rss = interval, threading.Event(), 0, 0

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.is_set():
            pss = rss = 0
            for pid in _descendants(me):
                p, r = _memory_kb(pid)
                pss, rss = pss + p, rss + r
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            self.stop.wait(self.interval)


def measure(cmd: list[str], cwd: Path | str | None = None, env: dict[str, str] | None = None,
            interval: float = 0.25, capture: bool = True) -> Measurement:
    """Run `cmd` to the end and measure its whole process tree."""
    subreaper = _subreaper(True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler = _Sampler(interval)
    sampler.start()
    started = time.perf_counter()
    out = subprocess.PIPE if capture else None
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=out, text=True)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    if subreaper:  # orphans of the tree (the fork server) are ours now: wait for them too
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.05)
        _subreaper(False)
    sampler.stop.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Measurement(proc.returncode, wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime,
                       sampler.peak_pss / 1024, sampler.peak_rss / 1024, after.ru_maxrss / 1024,
                       stdout or "", stderr or "")


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1:]
    if not argv:
        print(__doc__)
        return 2
    m = measure(argv, capture=False)
    print(f"wall {m.wall:.1f} s  cpu {m.cpu:.1f} s (user {m.user:.1f}, sys {m.system:.1f})  "
          f"peak tree PSS {m.peak_pss_mb:.0f} MB, RSS {m.peak_rss_mb:.0f} MB, largest process {m.largest_process_mb:.0f} MB",
          file=sys.stderr)
    return m.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
