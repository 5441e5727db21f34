"""Garbage collection in batches for processes that lay out documents or draw figures."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def start_gc_batch() -> None:
    """Freeze what exists now (never walked again) and stop automatic collection: the caller collects."""
    gc.collect()
    gc.freeze()
    gc.disable()


@contextmanager
def batched_gc() -> Iterator[None]:
    """Garbage collection off while a document (or a figure) is made, then once; the collector as before after.

    Python's collector runs every few hundred allocations and walks every object that survived earlier
    runs: the imported libraries, fonts, stylesheets and the boxes laid out so far. Freezing what exists
    and collecting once at the end takes a tenth off printing the state of the nation, with the same PDF.
    """
    enabled = gc.isenabled()
    start_gc_batch()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.collect()
        if enabled:
            gc.enable()
