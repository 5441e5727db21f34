"""The build's stages, in the order they run: a module of its own, so the command line knows them without
importing the build (and pandas with it) for a command that needs neither, such as the audit."""

from __future__ import annotations

STAGES = ("extract", "data", "workbook", "documents", "packs", "portal", "restricted")
