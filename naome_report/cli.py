"""The naome-report command: init, synth, validate, build, pack, verify, audit, dictionary.

An expected problem (bad input, configuration, a locked or damaged output folder) is reported in
one line naming the file, the problem and the fix, with exit code 2 and no traceback, on screen or
in the log. Ctrl-C gives one line saying what was left whole, and exit code 130.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from naome_report import __version__
from naome_report.config import SYNTHETIC_MARKER, ConfigError, load_config
from naome_report.errors import NaomeError
from naome_report.stages import STAGES

console = Console(stderr=True)
EXIT_FATAL = 2
EXIT_INTERRUPTED = 130


def _say(line: str) -> None:
    """One line on stderr, never wrapped (rich wraps at 80 columns when not on a terminal)."""
    sys.stderr.write(" ".join(line.split()) + "\n")
    sys.stderr.flush()


def _setup_logging(log_file: Path) -> None:
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{log_file}: the log file cannot be written ({exc.strerror}); make the output folder "
                          "writable, or set [paths] output_dir to a folder you can write to") from None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("naome_report")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def _cmd_init(args: argparse.Namespace, config) -> int:
    from naome_report.config import write_starter_config

    written = write_starter_config(Path(args.folder))
    console.print(f"configuration written: {written} (edit it, then run naome-report --config {written} build)")
    return 0


def _refuse_extract_folder(folder: Path) -> None:
    """The synthetic cohort is never written over files that are not themselves synthetic."""
    if folder.is_dir() and not (folder / SYNTHETIC_MARKER).exists():
        present = sorted(p.name for p in folder.iterdir() if p.suffix in (".csv", ".parquet"))
        if present:
            raise ConfigError(f"{folder}: holds {', '.join(present[:3])}{' and more' if len(present) > 3 else ''}, "
                              "which are not a synthetic extract; choose an empty folder with --out (the toolkit "
                              "never writes into an extract)")


def _cmd_synth(args: argparse.Namespace, config) -> int:
    from naome_report.config import SYNTHETIC_FOLDER
    from naome_report.lock import output_lock
    from naome_report.synth.generator import generate_extract, write_extract

    out = Path(args.out).resolve() if args.out else config.output_dir / SYNTHETIC_FOLDER
    _refuse_extract_folder(out)
    started = time.perf_counter()
    extract = generate_extract(config, scale=args.scale, seed=args.seed)
    fmt = args.format or config.section("synthetic")["file_format"]
    with output_lock(config.output_dir) if out.is_relative_to(config.output_dir) else contextlib.nullcontext():
        written = write_extract(extract, out, fmt)
    rows = sum(len(f) for f in extract.frames.values())
    console.print(f"[green]synthetic extract[/]: {len(extract.frames['patients']):,} people, {rows:,} records "
                  f"in {len(written)} {fmt} files → {out} ({time.perf_counter() - started:.1f} s)")
    return 0


def _cmd_validate(args: argparse.Namespace, config) -> int:
    from naome_report.ingest.quarantine import write_quarantine
    from naome_report.ingest.validate import validate_extract

    from naome_report.build import QUARANTINE_DIR, check_organisations
    from naome_report.lock import output_lock
    from naome_report.organisations import is_synthetic_extract, load_organisations

    extract = Path(args.extract).resolve() if args.extract else config.extract_dir
    check_organisations(config)
    orgs = load_organisations(config, config.synthetic or is_synthetic_extract(extract))
    shown = console.is_terminal  # progress on a terminal only: a log or pipe gets the result (or the one error line)
    validated = validate_extract(extract, orgs, config.data_cutoff,
                                 progress=lambda m: shown and console.print(f"  [dim]{m}[/]"))
    with output_lock(config.output_dir):
        write_quarantine(validated, config.output_dir / QUARANTINE_DIR)
    table = Table(title=f"Validation of {extract}")
    for col in ("file", "records read", "quarantined", "valid"):
        table.add_column(col, justify="right" if col != "file" else "left")
    for rec in validated.counts.itertuples():
        table.add_row(rec.file, f"{rec.records_read:,}", f"{rec.records_quarantined:,}", f"{rec.records_valid:,}")
    console.print(table)
    for warning in validated.warnings:
        console.print(f"[yellow]warning[/]: {warning}")
    console.print(f"quarantined records: {config.output_dir / QUARANTINE_DIR / 'quarantine.csv'}")
    return 0


def _cmd_build(args: argparse.Namespace, config) -> int:
    from naome_report.build import STAGES, run_build

    started = time.perf_counter()
    stages = args.only or list(STAGES)
    try:
        reports = run_build(config, stages=stages, force=args.force, workers=args.workers)
    except NaomeError:
        raise  # main() reports it in one line
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
            console.print(f"{label} {r.name}: {w}", soft_wrap=True)
    console.print(f"outputs in [bold]{config.output_dir}[/]; log: {config.path('log_file')}; "
                  f"total {time.perf_counter() - started:.1f} s", soft_wrap=True)


def _cmd_verify(args: argparse.Namespace, config) -> int:
    from naome_report.manifest import MANIFEST_FILE, verify_outputs

    out = Path(args.output).resolve() if args.output else config.output_dir
    manifest, problems = verify_outputs(out, config.path("log_file"))
    for problem in problems:
        _say(f"{out / problem.path}: {problem.problem}")
    failed = manifest.get("failed_stages", [])
    if failed:
        _say(f"{out / MANIFEST_FILE}: stage(s) {', '.join(failed)} failed in the build that wrote it; "
             "run naome-report build")
    elif not manifest.get("complete", False):
        console.print(f"note: not every stage has been built in {out} (a build with --only)", soft_wrap=True)
    if problems or failed:
        _say(f"verify: {len(problems)} of {len(manifest['outputs'])} outputs do not match {out / MANIFEST_FILE}; "
             "rebuild them with naome-report build (a changed output is rebuilt)")
        return 1
    console.print(f"verified: all {len(manifest['outputs']):,} outputs in {out} match {MANIFEST_FILE}")
    return 0


def _cmd_audit(args: argparse.Namespace, config) -> int:
    from naome_report.audit import audit_outputs

    out = Path(args.output).resolve() if args.output else config.output_dir
    started = time.perf_counter()
    report = audit_outputs(out, config)
    for finding in report.findings:
        _say(str(finding))
    seconds = time.perf_counter() - started
    if report.findings:
        _say(f"audit: FAILED: {len(report.findings)} possible disclosure(s) in {report.files_read:,} public files of "
             f"{out} ({seconds:.1f} s); fix each at its source (suppress it or say 'fewer than 5') and rebuild")
        return 1
    console.print(f"audit: passed: {report.files_read:,} public files of {out} read ({report.summary()}), "
                  f"no count from 1 to 4 of people or records, no patient identifier, no restricted content "
                  f"({seconds:.1f} s)", soft_wrap=True)
    return 0


def _cmd_pack(args: argparse.Namespace, config) -> int:
    from naome_report.hub import load_results
    from naome_report.lock import output_lock
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
    with output_lock(config.output_dir):
        paths = build_packs(results, load_registry(config.path("indicators"), config), config, out, org_codes=codes, workers=1)
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
    parser.add_argument("--config", help="configuration file (default: the bundled data/naome.toml in a checkout, "
                        "else naome.toml in the working directory); relative paths in it are read from its folder")
    sub = parser.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="write a starter configuration (and organisation table, registry) to edit")
    init.add_argument("folder", help="folder to write naome.toml, organisations.csv and indicators.yaml into")
    init.set_defaults(func=_cmd_init, needs_config=False)

    synth = sub.add_parser("synth", help="write the synthetic national cohort as an extract")
    synth.add_argument("--scale", type=float, help="1.0 = national scale (about 36,000 people)")
    synth.add_argument("--seed", type=int, help="random seed (same seed, same files)")
    synth.add_argument("--format", choices=["csv", "parquet"], help="file format")
    synth.add_argument("--out", help="folder to write (default: synthetic-extract in the output folder; never a "
                       "folder holding a real extract)")
    synth.set_defaults(func=_cmd_synth)

    validate = sub.add_parser("validate", help="validate an extract; write quarantine and counts")
    validate.add_argument("--extract", help="extract folder (default: [paths] extract_dir)")
    validate.set_defaults(func=_cmd_validate)

    build = sub.add_parser("build", help="build every output (only what changed)")
    build.add_argument("--only", nargs="+", choices=STAGES, help="build only these stages")
    build.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    build.add_argument("--workers", type=int, help="processes for the packs (0 = all cores)")
    build.set_defaults(func=_cmd_build)

    verify = sub.add_parser("verify", help="check every output against output/manifest.json (SHA-256)")
    verify.add_argument("--output", help="output folder (default: [paths] output_dir)")
    verify.set_defaults(func=_cmd_verify)

    audit = sub.add_parser("audit", help="disclosure audit of every public output: fails on a leak")
    audit.add_argument("--output", help="output folder (default: [paths] output_dir)")
    audit.set_defaults(func=_cmd_audit)

    pack = sub.add_parser("pack", help="build the packs of the organisations named (a preview while drafting)")
    pack.add_argument("codes", nargs="+", metavar="ORG_CODE", help="ODS codes, e.g. 7A1")
    pack.add_argument("--out", help="folder to write (default: output/packs)")
    pack.set_defaults(func=_cmd_pack)

    dictionary = sub.add_parser("dictionary", help="write the input data dictionary (Markdown)")
    dictionary.add_argument("--out", default="docs/data-dictionary.md")
    dictionary.set_defaults(func=_cmd_dictionary)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: known problems are reported in one line and exit code 2, never a traceback."""
    args = build_parser().parse_args(argv)
    log = logging.getLogger("naome_report")
    try:
        config = load_config(args.config) if getattr(args, "needs_config", True) else None
        if config is not None:
            _setup_logging(config.path("log_file"))
        return args.func(args, config)
    except KeyboardInterrupt:
        _say("interrupted: stopped; every file written so far is whole (written under a temporary name, then renamed)")
        if log.handlers:
            log.warning("interrupted")
        return EXIT_INTERRUPTED
    except _known_problems() as exc:
        _say(f"error: {exc}")
        if log.handlers:  # else logging's last-resort handler would print the line a second time
            log.error("%s", " ".join(str(exc).split()))
        return EXIT_FATAL
    except _build_interrupted() as exc:
        _say(str(exc))
        return EXIT_INTERRUPTED


# An except clause's classes are looked up only when an exception reaches it: these import the modules that
# define them then, not on every command (the build's modules and pandas cost the audit 0.5 CPU s).
def _known_problems() -> tuple[type[Exception], ...]:
    """The errors reported in one line with exit code 2."""
    from naome_report.hub import ResultsError
    from naome_report.ingest.errors import ReconciliationError
    from naome_report.reconcile import ReconciliationFailure
    from naome_report.registry import RegistryError

    return NaomeError, RegistryError, ReconciliationFailure, ReconciliationError, ResultsError


def _build_interrupted() -> type[Exception]:
    from naome_report.build import BuildInterrupted

    return BuildInterrupted


if __name__ == "__main__":
    sys.exit(main())
