"""The build orchestration: stage processes, incremental rebuilds, errors, progress display."""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from naome_report.build import STATE_FILE, StageFailed, _portable, run_build
from naome_report.config import load_config
from naome_report.hub import META_FILE
from naome_report.progress import Progress

sys.path.insert(0, str(Path(__file__).parent.parent / "workbook"))
from fixture_hub import write_fixture_data  # noqa: E402


def _config(out: Path):
    return load_config(overrides={"paths": {"output_dir": str(out), "log_file": str(out / "naome-report.log")}})


@pytest.fixture()
def fixture_output(tmp_path: Path) -> Path:
    write_fixture_data(tmp_path / "out" / "data")
    return tmp_path / "out"


def test_a_stage_runs_in_its_own_process_and_is_recorded(fixture_output: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    config = _config(fixture_output)
    with caplog.at_level("INFO", logger="naome_report"):
        (report,) = run_build(config, stages=["workbook"], progress=Progress(enabled=False))
    assert report.status == "built" and len(report.outputs) == 2 and all(p.exists() for p in report.outputs)
    # recorded in the log
    assert any(r.name == "naome_report.build" and "stage workbook: built" in r.getMessage() for r in caplog.records)
    state = json.loads((fixture_output / STATE_FILE).read_text())
    assert state["workbook"]["outputs"] == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in report.outputs}
    assert state["workbook"]["seconds"] > 0

    started = time.perf_counter()
    (again,) = run_build(config, stages=["workbook"], progress=Progress(enabled=False))
    assert again.status == "up to date"
    assert time.perf_counter() - started < 5

    meta = json.loads((fixture_output / "data" / META_FILE).read_text())
    (fixture_output / "data" / META_FILE).write_text(json.dumps({**meta, "built_at": "2027-01-01T00:00:00"}))
    (rebuilt,) = run_build(config, stages=["workbook"], progress=Progress(enabled=False))
    assert rebuilt.status == "built"


def test_a_failing_stage_raises_its_own_error_after_the_others_finish(fixture_output: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    config = _config(fixture_output)
    run_build(config, stages=["workbook"], progress=Progress(enabled=False))
    (fixture_output / "data" / "naome_indicators.csv").write_text("not,the,columns\n1,2,3\n")
    buffer = io.StringIO()
    progress = Progress(console=Console(file=buffer, width=200), enabled=True)
    with pytest.raises(Exception) as raised:
        run_build(config, stages=["workbook", "portal"], progress=progress)
    # the error is the stage's own exception (so the command line reports it as before), with the
    # stage process's traceback as its cause
    assert "Traceback" in str(raised.value.__cause__)
    assert "stage_workbook" in str(raised.value.__cause__) or "stage_portal" in str(raised.value.__cause__)
    state = json.loads((fixture_output / STATE_FILE).read_text())
    assert "workbook" not in state and "portal" not in state  # rebuilt next time
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buffer.getvalue())
    assert "✗ workbook failed" in shown and "✗ portal failed" in shown
    failed = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any(m.startswith("stage workbook failed") and "Traceback" in m for m in failed)


def test_unpicklable_errors_still_say_what_happened() -> None:
    class Odd(Exception):
        def __init__(self, a: int, b: int) -> None:
            super().__init__(f"{a} and {b}")

    portable = _portable(Odd(1, 2))
    assert isinstance(portable, StageFailed) and "Odd: 1 and 2" in str(portable)
    plain = ValueError("x")
    assert _portable(plain) is plain


def test_progress_rows_show_counts_notes_and_time_left() -> None:
    buffer = io.StringIO()
    progress = Progress(console=Console(file=buffer, force_terminal=True, width=120, color_system=None), enabled=True)
    progress.start("documents", expected=30)
    progress.note("figures drawn", stage="documents")
    packs = progress.task("packs")
    packs(12, 137)
    progress.refresh()
    progress.finish("documents", "built", 29.5, "40 outputs")
    progress.finish("packs", "failed", 3.0, "KeyError: '[c] suppressed'")  # brackets are text, not markup
    progress.close()
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buffer.getvalue())
    assert "figures drawn" in shown and "12/137" in shown and "left" in shown
    assert "✓ documents built in 29.5 s: 40 outputs" in shown
    assert "✗ packs failed in 3.0 s: KeyError: '[c] suppressed'" in shown


def test_the_command_ends_with_the_summary_even_when_a_stage_fails(fixture_output: Path) -> None:
    import subprocess
    import sys

    from naome_report.config import PROJECT_ROOT

    (fixture_output / "data" / "naome_indicators.csv").write_text("not,the,columns\n1,2,3\n")
    config_file = fixture_output / "naome.toml"  # only what differs from the bundled defaults
    config_file.write_text(f'[paths]\noutput_dir = "."\nlog_file = "build.log"\n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "naome_report", "--config", str(config_file), "build",
                           "--only", "workbook"], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          env={**__import__("os").environ, "COLUMNS": "200"})
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    summary = proc.stderr[proc.stderr.index("build summary"):]
    assert re.search(r"workbook\s*│\s*failed", summary), summary
    assert "stage workbook failed" in summary and "build.log" in summary
    assert "Traceback" in (fixture_output / "build.log").read_text(encoding="utf-8")


def test_editing_one_stages_templates_rebuilds_that_stage_only(fixture_output: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from naome_report import build

    template = tmp_path / "portal-template.html"
    template.write_text("<p>first draft</p>")
    monkeypatch.setitem(build.STAGE_TEMPLATES, "portal", lambda: [template])
    config = _config(fixture_output)
    first = run_build(config, stages=["workbook", "portal"], progress=Progress(enabled=False))
    assert [r.status for r in first] == ["built", "built"]
    template.write_text("<p>second draft</p>")
    again = {r.name: r.status for r in run_build(config, stages=["workbook", "portal"], progress=Progress(enabled=False))}
    assert again == {"workbook": "up to date", "portal": "built"}
    # the real stage templates are where the stages read them from
    assert any(p.name == "pack.html.j2" for p in build.STAGE_TEMPLATES["packs"]())
    assert any(p.suffix == ".qmd" for p in build.STAGE_TEMPLATES["documents"]())
    assert not build.STAGE_TEMPLATES["workbook"]()


# --- work beside the stage process (the data stage's run charts and survival) -----------------------------

def _pid_of_caller() -> int:
    import os

    return os.getpid()


def test_work_alongside_runs_in_another_process_and_returns_its_value() -> None:
    import os

    from naome_report.build import _Alongside

    with _Alongside(_pid_of_caller, workers=2) as alongside:
        here = os.getpid()
        elsewhere = alongside.result()
    assert elsewhere != here and isinstance(elsewhere, int)
    with _Alongside(_pid_of_caller, workers=1) as inline:  # one core: no second process
        assert inline.result() == os.getpid()


def test_work_alongside_raises_its_own_error_with_its_traceback() -> None:
    from naome_report.build import _Alongside
    from naome_report.config import ConfigError

    def broken() -> None:
        raise ConfigError("naome.toml: [survival] timepoints_years must not be empty")

    with _Alongside(broken, workers=2) as alongside, pytest.raises(ConfigError) as raised:
        alongside.result()
    assert str(raised.value) == "naome.toml: [survival] timepoints_years must not be empty"
    assert "Traceback" in str(raised.value.__cause__) and "in broken" in str(raised.value.__cause__)


def test_work_alongside_killed_is_a_failure_that_says_so() -> None:
    import os
    import signal

    from naome_report.build import _Alongside

    with _Alongside(lambda: os.kill(os.getpid(), signal.SIGKILL), workers=2) as alongside, \
            pytest.raises(StageFailed, match=r"ended \(killed by signal 9\) without a result"):
        alongside.result()


def test_leaving_the_block_early_waits_for_the_work_alongside(tmp_path: Path) -> None:
    from naome_report.build import _Alongside

    written = tmp_path / "written-alongside.txt"

    def slow_write() -> None:
        time.sleep(0.5)
        written.write_text("whole")

    with pytest.raises(RuntimeError, match="the stage's own error"):
        with _Alongside(slow_write, workers=2):
            raise RuntimeError("the stage's own error")
    assert written.read_text() == "whole"


def _data_stage_context(out: Path, extract: Path, stage_workers: int):
    """The data stage on the session's synthetic extract (read, never written), writing into `out`."""
    from naome_report.build import BuildContext
    from naome_report.registry import load_registry

    config = load_config(overrides={"synthetic": {"enabled": False},
                                    "paths": {"output_dir": str(out), "extract_dir": str(extract)}})
    return BuildContext(config=config, registry=load_registry(config.path("indicators"), config),
                        progress=Progress(enabled=False), stage_workers=stage_workers)


@pytest.mark.parametrize("stage_workers", [0, 1], ids=["two processes", "one process"])
def test_an_error_in_the_run_charts_is_the_data_stages_own_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 output_dir: Path, stage_workers: int) -> None:
    from naome_report import results
    from naome_report.build import stage_data

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("rolling_quarters")

    monkeypatch.setattr(results, "run_chart_table", broken)
    with pytest.raises(KeyError, match="rolling_quarters"):
        stage_data(_data_stage_context(tmp_path / "out", output_dir / "synthetic-extract", stage_workers))


def test_the_data_stage_writes_the_same_bytes_on_one_core_as_on_two(tmp_path: Path, output_dir: Path) -> None:
    from naome_report.build import stage_data

    reports = {workers: stage_data(_data_stage_context(tmp_path / f"out-{workers}", output_dir / "synthetic-extract",
                                                       workers)) for workers in (0, 1)}
    relative = {w: sorted(p.relative_to(tmp_path / f"out-{w}") for p in r.outputs) for w, r in reports.items()}
    assert relative[0] == relative[1]
    assert any(p.name == "naome_run_charts.csv" for p in relative[0])
    assert any(p.name == "naome_survival_curves.csv" for p in relative[0])
    assert any(p.parts[:2] == ("restricted", "data-quality") for p in relative[0])
    for path in relative[0]:
        assert (tmp_path / "out-0" / path).read_bytes() == (tmp_path / "out-1" / path).read_bytes(), path
