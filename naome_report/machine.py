"""What the machine offers this process."""

from __future__ import annotations

import os


def available_cores() -> int:
    """CPU cores this process may use (its affinity where the system reports one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
