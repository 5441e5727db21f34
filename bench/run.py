"""make bench: speed and memory of the pipeline on this machine, side by side in one run."""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
sys.path.insert(0, str(ROOT))

from bench.measure import measure  # noqa: E402


def _timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak memory (MB) of one command and every process it starts.

    The build's stage and pack processes come from multiprocessing's fork server, which the command
    never waits for: /usr/bin/time would miss their CPU time and memory. `bench.measure` follows the
    whole tree (see there); the memory is the tree's peak PSS, shared pages counted once.
    """
    m = measure(cmd, cwd=ROOT, env={**os.environ, **(env or {})})
    if m.returncode != 0:
        sys.stderr.write(m.stdout + m.stderr)
        raise SystemExit(f"benchmark step failed: {' '.join(cmd)}")
    return m.wall, m.cpu, m.peak_pss_mb


def _config_for(out: Path, scale: float | None = None) -> Path:
    """A configuration over the bundled defaults: outputs (and the synthetic extract) in `out`."""
    text = f'[paths]\noutput_dir = "{out}"\n' + (f"[synthetic]\nscale = {scale}\n" if scale is not None else "")
    path = out.parent / f"{out.name}.toml"
    path.write_text(text)
    return path


def main() -> None:
    rows = []
    work = Path(tempfile.mkdtemp(prefix="naome-bench-"))
    cli = [PY, "-m", "naome_report"]
    print(f"naome-report benchmark — {time.strftime('%Y-%m-%d')} — {platform.node()} "
          f"({os.cpu_count()} cores, Python {platform.python_version()})\n")

    # 1. Full build from an empty output folder, default synthetic cohort; then a no-op rebuild.
    out = work / "full"
    cfg = _config_for(out)
    s, cpu, mb = _timed(cli + ["--config", str(cfg), "build"])
    rows.append(("full build (empty output/, default cohort)", s, cpu, mb, "≤ 60 s, ≤ 2 GB"))
    s, cpu, mb = _timed(cli + ["--config", str(cfg), "audit"])
    rows.append(("disclosure audit of every public output, after the full build", s, cpu, mb, ""))
    s, cpu, mb = _timed(cli + ["--config", str(cfg), "build"])
    rows.append(("no-op rebuild", s, cpu, mb, "≤ 5 s"))

    # 2. The per-organisation pack stage alone, and the conventional baseline.
    s, cpu, mb = _timed(cli + ["--config", str(cfg), "build", "--only", "packs", "--force"])
    n_orgs = len(list((out / "packs").glob("*.pdf")))
    per_pack = s / max(n_orgs, 1)
    rows.append((f"packs stage ({n_orgs} organisations)", s, cpu, mb, f"{per_pack:.3f} s per organisation"))
    baseline = None
    try:
        sys.path.insert(0, str(ROOT))
        from bench.pack_baseline import run_baseline

        orgs = sorted(p.stem for p in (out / "packs").glob("*.pdf"))[:5]
        baseline = run_baseline(orgs, out / "data", work / "baseline")
        rows.append(("baseline: fresh process + Jupyter kernel per organisation (5, extrapolated)",
                     baseline * n_orgs, float("nan"), float("nan"), f"{baseline:.2f} s per organisation"))
    except Exception as exc:  # the baseline needs a Jupyter kernel; report rather than hide its absence
        rows.append((f"baseline not run: {exc}", float("nan"), float("nan"), float("nan"), ""))

    # 3. synth, validate and indicators at 1,000,000 patients.
    big = work / "million"
    big.mkdir()
    cfg_big = _config_for(big, scale=27.5)
    s, cpu, mb = _timed(cli + ["--config", str(cfg_big), "synth", "--format", "parquet"])
    rows.append(("synth, 1,000,000 patients (Parquet)", s, cpu, mb, "< 60 s, < 4 GB"))
    s, cpu, mb = _timed(cli + ["--config", str(cfg_big), "validate"])
    rows.append(("validate, 1,000,000 patients", s, cpu, mb, "< 60 s, < 4 GB"))
    s, cpu, mb = _timed(cli + ["--config", str(cfg_big), "build", "--only", "data"])
    rows.append(("data stage (validate, cohort, indicators, write files), 1,000,000 patients", s, cpu, mb, ""))
    # The indicator engine alone: the same extract, phases timed inside one process.
    m = measure([PY, str(ROOT / "bench" / "indicators_at_scale.py"), str(cfg_big)], cwd=ROOT, env=dict(os.environ))
    if m.returncode != 0:
        sys.stderr.write(m.stdout + m.stderr)
        raise SystemExit("benchmark step failed: bench/indicators_at_scale.py")
    engine = json.loads(m.stdout.strip().splitlines()[-1])
    rows.append((f"cohort + every indicator at every level, 1,000,000 patients "
                 f"({engine['cohort_patients']:,} in the cohort; validation {engine['validate_seconds']:.1f} s before it)",
                 engine["cohort_seconds"] + engine["indicators_seconds"], engine["cohort_and_indicators_cpu_seconds"],
                 engine["peak_mb"], "< 30 s, < 4 GB (peak includes the validated extract in memory)"))

    width = max(len(r[0]) for r in rows)
    print(f"{'step':<{width}}  {'seconds':>8}  {'CPU s':>8}  {'peak MB':>8}  target / note")
    for name, seconds, cpu, mb, note in rows:
        print(f"{name:<{width}}  {seconds:8.1f}  {cpu:8.1f}  {mb:8.0f}  {note}")
    print("\nseconds: wall time; CPU s: user + system time of every process of the step; peak MB: the largest\n"
          "memory of the whole process tree at any moment (PSS: pages shared by forked processes counted once).")
    if baseline:
        print(f"\npacks are {baseline / per_pack:.1f}x faster per organisation than the baseline (target ≥ 10x)")
    (ROOT / "output").mkdir(exist_ok=True)
    (ROOT / "output" / "bench.json").write_text(json.dumps(
        [{"step": r[0], "seconds": r[1], "cpu_seconds": r[2], "peak_mb": r[3], "note": r[4]} for r in rows], indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
