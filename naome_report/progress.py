"""Progress display for long steps (rich), quiet when not on a terminal."""

from __future__ import annotations

import logging
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

logger = logging.getLogger("naome_report.progress")


class Task:
    """A counted task: call with (done, total) to update; shows time left."""

    def __init__(self, owner: "Progress", name: str) -> None:
        self.owner, self.name, self._id, self._last_log = owner, name, None, 0.0

    def __call__(self, done: int, total: int) -> None:
        bar = self.owner.bar
        if bar is not None:
            if self._id is None:
                self._id = bar.add_task(self.name, total=total)
            bar.update(self._id, completed=done, total=total)
        now = time.monotonic()
        if now - self._last_log > 5 or done == total:
            logger.info("%s: %d of %d", self.name, done, total)
            self._last_log = now


class Progress:
    """Stage headings, notes and progress bars on stderr."""

    def __init__(self, console: Console | None = None, enabled: bool | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = self.console.is_terminal if enabled is None else enabled
        self.bar: RichProgress | None = None

    def stage(self, name: str) -> None:
        """Announce a stage."""
        self.console.print(f"[bold blue]▶ {name}[/]")

    def note(self, message: str) -> None:
        """A one-line note inside a stage."""
        logger.info(message)
        if self.enabled:
            self.console.print(f"  [dim]{message}[/]")

    def task(self, name: str) -> Task:
        """A counted task with a bar and an estimate of time left."""
        if self.enabled and self.bar is None:
            self.bar = RichProgress(TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(),
                                    TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                                    console=self.console, transient=False)
            self.bar.start()
        return Task(self, name)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
