"""The conventional way to make organisation packs, for comparison: one fresh process and Jupyter kernel per organisation.

For each organisation a new Python process executes `bench/pack_baseline.ipynb` with nbclient in its
own kernel, parameterised by a first cell (`org`, `data_dir`, `out_dir`), as `quarto render -P org:X`
would: it loads the CSVs, draws the funnels, run charts and survival curve with matplotlib and writes
HTML to PDF with weasyprint. Quarto's own overhead (pandoc, its Lua filters) is not included, so the
baseline flatters the conventional approach.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "bench" / "pack_baseline.ipynb"

# What each fresh process runs: inject the parameters as the first cell, execute in a new kernel.
RUNNER = """
import sys
import nbformat
from nbclient import NotebookClient

notebook, org, data_dir, out_dir, root = sys.argv[1:6]
nb = nbformat.read(notebook, as_version=4)
params = f"org = {org!r}\\ndata_dir = {data_dir!r}\\nout_dir = {out_dir!r}"
nb.cells.insert(0, nbformat.v4.new_code_cell(params, metadata={"tags": ["injected-parameters"]}))
NotebookClient(nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": root}}).execute()
"""


def render_one(org_code: str, data_dir: Path, out_dir: Path) -> float:
    """Seconds for one organisation: new process, new kernel, the whole notebook."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(NOTEBOOK), org_code, str(data_dir), str(out_dir), str(ROOT)],
                          cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"baseline notebook failed for {org_code}:\n{proc.stderr[-3000:]}")
    if not (out_dir / f"{org_code}.pdf").exists():
        raise RuntimeError(f"baseline notebook wrote no PDF for {org_code}")
    return seconds


def run_baseline(org_codes: list[str], data_dir: Path, out_dir: Path) -> float:
    """Mean seconds per organisation of the conventional approach, over the organisations given (at least 5)."""
    if len(org_codes) < 5:
        raise ValueError("the baseline needs a sample of at least 5 organisations")
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    times = [render_one(code, Path(data_dir).resolve(), out_dir) for code in org_codes]
    return sum(times) / len(times)


if __name__ == "__main__":
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "output" / "data"
    codes = sys.argv[2].split(",") if len(sys.argv) > 2 else ["ZAA", "ZAD", "ZAG", "ZAK", "7A1"]
    target = Path(sys.argv[3]) if len(sys.argv) > 3 else ROOT / "output" / "bench" / "pack_baseline"
    print(f"{run_baseline(codes, data, target):.2f} s per organisation")
