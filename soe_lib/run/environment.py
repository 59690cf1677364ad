"""The environment of the processes a run starts (kernels, Dask workers, the HTML copies' converters) and of
the run's own process: one BLAS thread each, and glibc's allocator kept on its heap. A setting of the user's
own always wins."""

from __future__ import annotations

import contextlib
import functools
import os
from typing import Any

__all__ = ["HEAP_ALLOCATOR", "ONE_BLAS_THREAD", "RUN_ENVIRONMENT", "give_back_memory", "heap_allocator", "run_environment"]

# BLAS libraries start a thread per core. In a run every core has a process already (the chain's notebook,
# the one beside it, the next warm kernel), and a BLAS thread waiting for a busy core made sensing's seasonal
# least squares take 2 s instead of 0.4 s at 100k series (py-spy of a whole run). A setting of the user's own wins.
ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# glibc gives every block above 32 MB fresh pages of its own (mmap) and hands them back when it is freed, so each
# large temporary array costs a page fault per page touched: a 1M run took 53.6M page faults, 311 s of the kernel's
# time in 829 s of CPU. From the heap (no mmap) a freed array's pages serve the next one: sensing at 100k 5.6 s
# -> 4.5 s, the same peak memory. Free memory above 128 MB at the heap's top still goes back to the system.
HEAP_ALLOCATOR = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(128 << 20)}
RUN_ENVIRONMENT = {**ONE_BLAS_THREAD, **HEAP_ALLOCATOR}


@contextlib.contextmanager
def run_environment() -> Any:
    """The kernels and processes the run starts inherit :data:`RUN_ENVIRONMENT` (unless already set), and this
    process allocates as it says (:func:`heap_allocator`); this process's environment is as before afterwards."""
    added = {k: v for k, v in RUN_ENVIRONMENT.items() if k not in os.environ}
    os.environ.update(added)
    heap_allocator()
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


@functools.cache
def _glibc() -> Any:
    """glibc, or None where the C library is another (its allocator is left as it is)."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def heap_allocator() -> bool:
    """This process's glibc ``malloc`` set as :data:`HEAP_ALLOCATOR` says (a process reads those variables only
    when it starts); False where the C library is not glibc (nothing changed)."""
    libc = _glibc()
    try:
        values = {k: int(os.environ.get(k, v)) for k, v in HEAP_ALLOCATOR.items()}
    except ValueError:  # the user's own setting is not a number: glibc ignores it, and so does this
        return False
    m_trim_threshold, m_mmap_max = -1, -4  # glibc's malloc.h
    return libc is not None and bool(libc.mallopt(m_mmap_max, values["MALLOC_MMAP_MAX_"]) and libc.mallopt(m_trim_threshold, values["MALLOC_TRIM_THRESHOLD_"]))


def give_back_memory() -> bool:
    """Every free page of this process's heap handed back to the system (glibc's ``malloc_trim``): a Dask
    worker does it after each task, so what a task freed is not counted against its memory limit while it
    waits for the next (the heap keeps freed memory for reuse within a task). False where not glibc."""
    libc = _glibc()
    return libc is not None and bool(libc.malloc_trim(0))
