"""naome-report: the annual outputs of the National Audit of Metastatic Breast Cancer."""

import os

# One BLAS thread per process: the matrices here are small, parallelism comes from worker processes,
# and multithreaded OpenBLAS spin-waits when the cores are busy (a 20-column GLM took 6 s instead of
# 0.3 s while the packs were rendering). Set these variables yourself to override.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

__version__ = "0.1.0"
