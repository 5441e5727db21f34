"""The naome-report command: synth, validate, build, dictionary."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from naome_report import __version__
from naome_report.config import ConfigError, load_config

console = Console(stderr=True)


def _setup_logging(log_file: Path) -> None:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("naome_report")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def _cmd_synth(args: argparse.Namespace, config) -> int:
    from naome_report.synth.generator import generate_extract, write_extract

    out = Path(args.out) if args.out else config.extract_dir
    started = time.perf_counter()
    extract = generate_extract(config, scale=args.scale, seed=args.seed)
    fmt = args.format or config.section("synthetic")["file_format"]
    written = write_extract(extract, out, fmt)
    rows = sum(len(f) for f in extract.frames.values())
    console.print(f"[green]synthetic extract[/]: {len(extract.frames['patients']):,} people, {rows:,} records "
                  f"in {len(written)} {fmt} files → {out} ({time.perf_counter() - started:.1f} s)")
    return 0


def _cmd_validate(args: argparse.Namespace, config) -> int:
    import pandas as pd

    from naome_report.ingest.quarantine import write_quarantine
    from naome_report.ingest.validate import validate_extract

    extract = Path(args.extract) if args.extract else config.extract_dir
    orgs = pd.read_csv(config.path("organisations"), dtype=str, keep_default_na=False)
    validated = validate_extract(extract, orgs, config.data_cutoff, progress=lambda m: console.print(f"  [dim]{m}[/]"))
    write_quarantine(validated, config.output_dir / "quarantine")
    table = Table(title=f"Validation of {extract}")
    for col in ("file", "records read", "quarantined", "valid"):
        table.add_column(col, justify="right" if col != "file" else "left")
    for rec in validated.counts.itertuples():
        table.add_row(rec.file, f"{rec.records_read:,}", f"{rec.records_quarantined:,}", f"{rec.records_valid:,}")
    console.print(table)
    for warning in validated.warnings:
        console.print(f"[yellow]warning[/]: {warning}")
    console.print(f"quarantined records: {config.output_dir / 'quarantine' / 'quarantine.csv'}")
    return 0


def _cmd_build(args: argparse.Namespace, config) -> int:
    from naome_report.build import STAGES, run_build

    started = time.perf_counter()
    stages = args.only or list(STAGES)
    try:
        reports = run_build(config, stages=stages, force=args.force, workers=args.workers)
    except Exception as exc:
        reports = getattr(exc, "build_reports", None)
        if reports is None:  # failed before any stage ran: main() reports it
            raise
        _print_build_summary(reports, config, started)
        failed = [r.name for r in reports if r.status == "failed"]
        console.print(f"[bold red]error[/]: {'stage' if len(failed) == 1 else 'stages'} {', '.join(failed)} failed "
                      f"(tracebacks in {config.path('log_file')}); what the other stages built is kept")
        return 1
    _print_build_summary(reports, config, started)
    return 0


def _print_build_summary(reports: list, config, started: float) -> None:
    """What each stage did, how long it took and how many outputs it wrote; then every warning."""
    table = Table(title="naome-report build summary")
    for col in ("stage", "status", "seconds", "outputs"):
        table.add_column(col)
    for r in reports:
        status = f"[bold red]{r.status}[/]" if r.status == "failed" else r.status
        table.add_row(r.name, status, f"{r.seconds:.1f}", str(len(r.outputs)) if r.outputs else "")
    console.print(table)
    for r in reports:
        label = "[bold red]error[/]" if r.status == "failed" else "[yellow]warning[/]"
        for w in r.warnings:
            console.print(f"{label} {r.name}: {w}")
    console.print(f"outputs in [bold]{config.output_dir}[/]; log: {config.path('log_file')}; "
                  f"total {time.perf_counter() - started:.1f} s")


def _cmd_pack(args: argparse.Namespace, config) -> int:
    from naome_report.hub import load_results
    from naome_report.publish.packs.data import organisations
    from naome_report.publish.packs import build_packs
    from naome_report.registry import load_registry

    started = time.perf_counter()
    results = load_results(config.output_dir / "data")
    known = {o.code: o.name for o in organisations(results)}
    codes = [c.strip().upper() for c in args.codes]
    unknown = [c for c in codes if c not in known]
    if unknown:
        console.print(f"[bold red]error[/]: no organisation {', '.join(unknown)} in {config.output_dir / 'data'} "
                      f"(codes are ODS codes such as {', '.join(list(known)[:3])}; all {len(known)} are in "
                      "naome_indicators.csv)")
        return 2
    out = Path(args.out) if args.out else config.output_dir / "packs"
    paths = build_packs(results, load_registry(config.path("indicators")), config, out, org_codes=codes, workers=1)
    for path in paths:
        console.print(f"[green]pack[/] {path.stem} {known[path.stem]} → {path}")
    console.print(f"{len(paths)} pack(s) in {time.perf_counter() - started:.1f} s")
    return 0


def _cmd_dictionary(args: argparse.Namespace, config) -> int:
    from naome_report.ingest.dictionary import write_data_dictionary

    path = Path(args.out)
    write_data_dictionary(path)
    console.print(f"data dictionary written to {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="naome-report", description=(
        "Builds the annual outputs of the National Audit of Metastatic Breast Cancer from its linked extract."))
    parser.add_argument("--version", action="version", version=f"naome-report {__version__}")
    parser.add_argument("--config", help="configuration file (default data/naome.toml)")
    sub = parser.add_subparsers(dest="command", required=True)

    synth = sub.add_parser("synth", help="write the synthetic national cohort as an extract")
    synth.add_argument("--scale", type=float, help="1.0 = national scale (about 36,000 people)")
    synth.add_argument("--seed", type=int, help="random seed (same seed, same files)")
    synth.add_argument("--format", choices=["csv", "parquet"], help="file format")
    synth.add_argument("--out", help="folder to write (default: [paths] extract_dir)")
    synth.set_defaults(func=_cmd_synth)

    validate = sub.add_parser("validate", help="validate an extract; write quarantine and counts")
    validate.add_argument("--extract", help="extract folder (default: [paths] extract_dir)")
    validate.set_defaults(func=_cmd_validate)

    from naome_report.build import STAGES

    build = sub.add_parser("build", help="build every output (only what changed)")
    build.add_argument("--only", nargs="+", choices=STAGES, help="build only these stages")
    build.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    build.add_argument("--workers", type=int, help="processes for the packs (0 = all cores)")
    build.set_defaults(func=_cmd_build)

    pack = sub.add_parser("pack", help="build the packs of the organisations named (a preview while drafting)")
    pack.add_argument("codes", nargs="+", metavar="ORG_CODE", help="ODS codes, e.g. 7A1")
    pack.add_argument("--out", help="folder to write (default: output/packs)")
    pack.set_defaults(func=_cmd_pack)

    dictionary = sub.add_parser("dictionary", help="write the input data dictionary (Markdown)")
    dictionary.add_argument("--out", default="docs/data-dictionary.md")
    dictionary.set_defaults(func=_cmd_dictionary)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: known problems are reported in one line and a non-zero exit, never a traceback."""
    from naome_report.hub import ResultsError
    from naome_report.ingest.errors import ExtractError
    from naome_report.reconcile import ReconciliationFailure
    from naome_report.registry import RegistryError

    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
        _setup_logging(config.path("log_file"))
        return args.func(args, config)
    except (ExtractError, ConfigError, RegistryError, ReconciliationFailure, ResultsError) as exc:
        console.print(f"[bold red]error[/]: {exc}")
        logging.getLogger("naome_report").error("%s", exc)
        return 2


if __name__ == "__main__":
    sys.exit(main())
