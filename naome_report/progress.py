"""Progress display for the build (rich), quiet when not on a terminal.

Several stages run at once: each has a row with its latest note, a bar (a count where the stage
reports one, e.g. packs 12/137), the time it has taken and an estimate of the time left (from its
count, else from how long it took last time). Finished stages print one line above the rows.
Everything shown is also logged (`naome_report.progress`), so a log file tells the same story.

The display never starts a thread of its own (the build forks worker processes, and forking a
process with threads is unsafe): whoever waits on the stages calls `refresh()`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress as RichProgress, ProgressColumn, Task as RichTask, TextColumn, \
    TimeElapsedColumn
from rich.text import Text

logger = logging.getLogger("naome_report.progress")
LOG_EVERY_SECONDS = 5.0


class _CountColumn(ProgressColumn):
    """'12/137' for a counted stage, nothing otherwise."""

    def render(self, task: RichTask) -> Text:
        if task.total is None:
            return Text("")
        return Text(f"{task.completed:.0f}/{task.total:.0f}", style="progress.download")


class _TimeLeftColumn(ProgressColumn):
    """Time left: from the count once there is one, else from the stage's duration last time."""

    max_refresh = 0.5

    def render(self, task: RichTask) -> Text:
        left = None
        if task.total and task.completed and not task.finished:
            left = task.time_remaining
        if left is None and task.fields.get("expected") and task.elapsed is not None:
            left = task.fields["expected"] - task.elapsed
        if left is None or left <= 0:
            return Text("")
        minutes, seconds = divmod(int(round(left)), 60)
        return Text(f"~{minutes}:{seconds:02d} left", style="progress.remaining")


class Task:
    """A counted task: call with (done, total) to update; shows time left."""

    def __init__(self, owner: "Progress", name: str, stage: str | None = None) -> None:
        self.owner, self.name, self.stage, self._last_log = owner, name, stage or name, 0.0

    def __call__(self, done: int, total: int) -> None:
        self.owner.count(self.stage, done, total, label=self.name)
        now = time.monotonic()
        if now - self._last_log > LOG_EVERY_SECONDS or done == total:
            logger.info("%s: %d of %d", self.name, done, total)
            self._last_log = now


class Progress:
    """Stage rows, notes and counts on stderr (and in the log)."""

    def __init__(self, console: Console | None = None, enabled: bool | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = self.console.is_terminal if enabled is None else enabled
        self.bar: RichProgress | None = None
        self._rows: dict[str, Any] = {}
        self._started: set[str] = set()
        self._lock = threading.RLock()  # packs report from a thread of their own

    # ------------------------------------------------------------------ display

    def _display(self) -> RichProgress | None:
        if not self.enabled:
            return None
        if self.bar is None:
            self.bar = RichProgress(
                TextColumn("  [bold]{task.description:<10}"), BarColumn(bar_width=28), _CountColumn(),
                TimeElapsedColumn(), _TimeLeftColumn(), TextColumn("{task.fields[note]}", style="dim", markup=False),
                console=self.console, transient=True, auto_refresh=False)
            self.bar.start()
        return self.bar

    def refresh(self) -> None:
        """Redraw the rows (called by whoever waits on the stages)."""
        with self._lock:
            if self.bar is not None:
                self.bar.refresh()

    def _print(self, text: str, always: bool = False) -> None:
        if self.enabled or always:
            with self._lock:
                self.console.print(text)
                self.refresh()

    # ------------------------------------------------------------------ stages

    def start(self, stage: str, expected: float | None = None) -> None:
        """A stage has started; `expected` is how long it took last time (seconds), for the time left."""
        with self._lock:
            if stage in self._started:
                return
            self._started.add(stage)
            logger.info("stage %s: started", stage)
            bar = self._display()
            if bar is not None and stage not in self._rows:
                self._rows[stage] = bar.add_task(stage, total=None, note="", expected=expected)
                bar.refresh()

    def note(self, message: str, stage: str | None = None) -> None:
        """A one-line note of a stage (the latest is shown on its row)."""
        logger.info("%s", message if stage is None else f"{stage}: {message}")
        with self._lock:
            if self.bar is not None and stage in self._rows:
                self.bar.update(self._rows[stage], note=message[:60])
                self.bar.refresh()
            elif self.enabled:
                self.console.print(f"  [dim]{escape(message)}[/]")

    def count(self, stage: str, done: int, total: int, label: str | None = None) -> None:
        """Progress of a counted stage: `done` of `total`."""
        with self._lock:
            self.start(stage)
            if self.bar is not None and stage in self._rows:
                self.bar.update(self._rows[stage], completed=done, total=total,
                                note=label if label and label != stage else "")
                self.bar.refresh()

    def task(self, name: str, stage: str | None = None) -> Task:
        """A counted task with a bar and an estimate of time left."""
        return Task(self, name, stage or name)

    def finish(self, stage: str, status: str, seconds: float, detail: str = "") -> None:
        """A stage has ended: drop its row and say how it went."""
        with self._lock:
            self._started.discard(stage)
            if self.bar is not None and stage in self._rows:
                self.bar.remove_task(self._rows.pop(stage))
            else:
                self._rows.pop(stage, None)
        mark = {"built": "[green]✓[/]", "failed": "[bold red]✗[/]"}.get(status, "[yellow]·[/]")
        line = f"{mark} {stage} {status} in {seconds:.1f} s" + (f": {escape(detail)}" if detail else "")
        self._print(line, always=status == "failed")  # a failure is shown even when there is no terminal

    def warn(self, message: str) -> None:
        """Something the user should know (shown even when there is no terminal, and logged)."""
        logger.warning("%s", message)
        with self._lock:
            self.console.print(f"[yellow]note[/]: {escape(message)}", soft_wrap=True)
            self.refresh()

    def close(self) -> None:
        """Stop the display (the rows are transient; finished stages keep their line)."""
        with self._lock:
            if self.bar is not None:
                self.bar.stop()
                self.bar = None
            self._rows.clear()
            self._started.clear()


class RemoteProgress:
    """The progress of a stage running in another process: sends events to the builder's queue."""

    MIN_INTERVAL = 0.2

    def __init__(self, send: Callable[[tuple], None], stage: str) -> None:
        self.send, self.stage_name, self._last = send, stage, 0.0

    def note(self, message: str) -> None:
        self.send(("note", self.stage_name, str(message)))

    def task(self, name: str) -> Callable[[int, int], None]:
        def update(done: int, total: int) -> None:
            now = time.monotonic()
            if done == total or now - self._last >= self.MIN_INTERVAL:
                self._last = now
                self.send(("count", self.stage_name, int(done), int(total), name))
        return update

    def close(self) -> None:
        pass
