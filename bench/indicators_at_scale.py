"""Time the indicator engine on one extract: validation, cohort, and every indicator at every level.

Usage: python bench/indicators_at_scale.py CONFIG.toml  -> one JSON line on stdout.
Each phase runs once in this process; peak memory is the process's maximum resident set size
(ru_maxrss), which includes the validated extract held in memory.
"""

from __future__ import annotations

import json
import resource
import sys
import time

import naome_report  # noqa: F401  (first: it sets one BLAS thread per process before numpy loads)

from naome_report.organisations import is_synthetic_extract, load_organisations
from naome_report.cohort import derive_cohort
from naome_report.config import load_config
from naome_report.ingest.validate import validate_extract
from naome_report.registry import load_registry
from naome_report.results import build_hub_tables


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(config_path: str) -> dict:
    """Seconds and peak MB of each phase, and the size of the cohort."""
    config = load_config(config_path)
    registry = load_registry(config.path("indicators"), config)
    orgs = load_organisations(config, is_synthetic_extract(config.extract_dir))
    started = time.perf_counter()
    validated = validate_extract(config.extract_dir, orgs, config.data_cutoff)
    validate_s, validate_mb = time.perf_counter() - started, _peak_mb()
    started, cpu = time.perf_counter(), time.process_time()
    cohort = derive_cohort(validated.frames, config)
    cohort_s = time.perf_counter() - started
    tables = build_hub_tables(cohort, registry, orgs, validated.frames["cpes"], config,
                              config.synthetic)
    indicators_s = time.perf_counter() - started - cohort_s
    engine_cpu = time.process_time() - cpu
    return {"patients_in_extract": len(validated.frames["patients"]), "cohort_patients": len(cohort.patients),
            "indicator_rows": len(tables.indicators), "validate_seconds": validate_s,
            "validate_peak_mb": validate_mb, "cohort_seconds": cohort_s, "indicators_seconds": indicators_s,
            "cohort_and_indicators_cpu_seconds": engine_cpu,
            "peak_mb": _peak_mb()}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
