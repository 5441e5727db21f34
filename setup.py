"""Puts the default configuration, templates and report sources into the wheel (naome_report/_resources).

In a checkout they stay where analysts edit them (data/, templates/, reports/); an installed package
finds its copies beside its code (naome_report.config.PROJECT_ROOT).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCES = ("data", "templates", "reports")


class BuildPyWithResources(build_py):
    """build_py, then the resource folders copied into the package."""

    def run(self) -> None:
        super().run()
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "naome_report" / "_resources"
        for name in RESOURCES:
            shutil.copytree(root / name, target / name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "node_modules", ".*"))


setup(cmdclass={"build_py": BuildPyWithResources})
