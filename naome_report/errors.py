"""The base of every expected problem: one the user can fix, reported in one line with the fix and exit code 2."""

from __future__ import annotations


class NaomeError(Exception):
    """An expected problem (bad input, configuration, a locked output folder): one line, no traceback."""
