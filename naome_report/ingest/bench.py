"""Benchmark of validate_extract at 1,000,000 patients: wall time, CPU time and peak memory."""

# Usage: python -m naome_report.ingest.bench [--patients N] [--format csv|parquet]
# The synthetic extract is generated once per size and format (in a child process, so its memory
# is not counted) and reused; validation runs in a child process whose peak RSS comes from wait4().

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from naome_report.config import load_config

logger = logging.getLogger("naome_report.ingest")

TARGET_SECONDS = 60.0
TARGET_BYTES = 4 * 1024**3
_CALIBRATION_SCALE = 0.05


def run_benchmark(patients: int = 1_000_000, file_format: str = "csv", workdir: Path | None = None) -> dict:
    """Generate (or reuse) an extract of about `patients` people and time its validation in a child process."""
    config = load_config()
    workdir = Path(workdir) if workdir else config.output_dir / "bench"
    extract = workdir / f"extract-{patients}-{file_format}"
    if not (extract / "_synthetic_truth.json").exists():
        scale = patients / _patients_per_scale() * 1.001  # the generator rounds per group: aim a little above
        logger.info("generating a synthetic extract of about %s patients (scale %.2f) in %s", f"{patients:,}", scale,
                    extract)
        _child(["--generate", str(extract), "--scale", str(scale), "--format", file_format])
    started = time.perf_counter()
    usage = _child(["--validate", str(extract), "--result", str(workdir / "validate-counts.json")])
    wall = time.perf_counter() - started
    counts = json.loads((workdir / "validate-counts.json").read_text())
    result = {
        "patients": counts["patients"], "records": counts["records"], "quarantined": counts["quarantined"],
        "format": file_format, "wall_seconds": round(wall, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_bytes": usage.ru_maxrss * 1024, "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "target_seconds": TARGET_SECONDS, "target_bytes": TARGET_BYTES,
    }
    result["passed"] = wall < TARGET_SECONDS and result["peak_rss_bytes"] < TARGET_BYTES
    (workdir / "validate.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


def _patients_per_scale() -> float:
    from naome_report.synth.generator import generate_extract

    truth = generate_extract(load_config(), scale=_CALIBRATION_SCALE).truth["patients"]
    return sum(truth.values()) / _CALIBRATION_SCALE


def _child(arguments: list[str]):
    """Run this module in a child process and return its resource usage (peak RSS of that child only)."""
    process = subprocess.Popen([sys.executable, "-m", "naome_report.ingest.bench", *arguments])
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"benchmark step {arguments[0]} failed with exit code {process.returncode}")
    return usage


def _generate(directory: Path, scale: float, file_format: str) -> None:
    from naome_report.synth.generator import generate_extract, write_extract

    write_extract(generate_extract(load_config(), scale=scale), directory, file_format)


def _validate(directory: Path, result: Path) -> None:
    from naome_report.ingest.validate import validate_extract
    from naome_report.organisations import load_organisations

    config = load_config()
    organisations = load_organisations(config, synthetic=True)  # the bench extract is synthetic
    validated = validate_extract(directory, organisations, config.data_cutoff, progress=logger.info)
    counts = validated.counts
    result.write_text(json.dumps({
        "patients": int(counts.set_index("file").at["patients", "records_read"]),
        "records": int(counts.records_read.sum()), "quarantined": int(counts.records_quarantined.sum()),
    }), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Command line: benchmark validation and log time, memory and whether the targets are met."""
    parser = argparse.ArgumentParser(prog="python -m naome_report.ingest.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--validate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.generate:
        _generate(args.generate, args.scale, args.format)
        return 0
    if args.validate:
        _validate(args.validate, args.result)
        return 0
    result = run_benchmark(args.patients, args.format, args.workdir)
    logger.info(
        "validate_extract: %s patients, %s records (%s): wall %.1f s, CPU %.1f s, peak RSS %.2f GB "
        "(targets: < %.0f s, < %.0f GB; %s cores, load %.1f) -> %s",
        f"{result['patients']:,}", f"{result['records']:,}", result["format"], result["wall_seconds"],
        result["cpu_seconds"], result["peak_rss_bytes"] / 1024**3, TARGET_SECONDS, TARGET_BYTES / 1024**3,
        result["cpus"], result["load_average_1min"], "PASS" if result["passed"] else "FAIL")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
