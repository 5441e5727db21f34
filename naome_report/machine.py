"""What the machine offers this process, and the processes a build starts."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import time
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_guard_installed = False


def available_cores() -> int:
    """CPU cores this process may use (its affinity where the system reports one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _set_parent_death_signal(sig: int) -> None:
    """Linux: have the kernel send `sig` to this process when its parent ends (a no-op elsewhere)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _in_forked_child(parent: int | None = None) -> None:
    """In every process forked after install_child_guard(): Ctrl-C is the builder's to handle; end with the parent."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the builder's SIGTERM-as-Ctrl-C: just end
    except (ValueError, OSError):  # not the main thread: nothing to change
        pass
    _set_parent_death_signal(signal.SIGTERM)
    if parent is not None and os.getppid() != parent:  # the parent ended before the death signal was set
        os._exit(1)


def install_child_guard() -> None:
    """From now on, every process this one forks ignores Ctrl-C and is stopped when its parent ends.

    Ctrl-C reaches every process in the terminal's foreground group: only the builder acts on it
    (and stops the others), so the user sees one line instead of a traceback per process. The death
    signal covers the builder being killed outright: its stage processes, and the fork server's
    children when the fork server ends with it, are stopped by the kernel.
    """
    global _guard_installed
    if _guard_installed or not hasattr(os, "register_at_fork"):
        return
    os.register_at_fork(before=_remember_parent, after_in_child=lambda: _in_forked_child(_forking_parent))
    _guard_installed = True


_forking_parent: int | None = None


def _remember_parent() -> None:
    global _forking_parent
    _forking_parent = os.getpid()


def _is_resource_tracker(pid: int) -> bool:
    """multiprocessing's resource tracker: it ends by itself with its parent and must outlive the other children
    (stopped first, it is restarted and then reports each semaphore it never saw)."""
    try:
        return b"multiprocessing.resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def descendants(pid: int | None = None) -> list[int]:
    """Every living process below `pid` (default: this one), children before grandchildren; Linux /proc only."""
    root = os.getpid() if pid is None else pid
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] == "Z":  # a zombie has ended already
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, queue = [], list(children.get(root, []))
    while queue:
        child = queue.pop(0)
        found.append(child)
        queue += children.get(child, [])
    return found


def stop_descendants(timeout: float = 5.0) -> list[int]:
    """Stop every process below this one (SIGTERM, then SIGKILL after `timeout`); return those that were running."""
    running = [pid for pid in descendants() if not _is_resource_tracker(pid)]
    for pid in running:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not set(running) & set(descendants()):  # ended (zombies waiting to be collected count as ended)
            return running
        time.sleep(0.05)
    for pid in set(running) & set(descendants()):
        _signal(pid, signal.SIGKILL)
    return running


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass

