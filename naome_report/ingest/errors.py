"""Errors that stop ingestion: problems with a whole file, not with single records."""

from __future__ import annotations

from naome_report.errors import NaomeError


class ExtractError(NaomeError):
    """A fatal problem with one file of the extract, with the fix the data supplier should make."""

    def __init__(self, file: str, problem: str, fix: str) -> None:
        super().__init__(file, problem, fix)
        self.file = file
        self.problem = problem.rstrip(".")
        self.fix = fix if fix.endswith(".") else f"{fix}."

    def __str__(self) -> str:
        return f"{self.file}: {self.problem}. Fix: {self.fix}"


class ReconciliationError(RuntimeError):
    """Records were lost or double-counted between reading and validation (a bug, not a data problem)."""
