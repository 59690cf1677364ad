"""The whole weekly cycle, from input files to the published week, at several sizes.

For each size the sample company is generated as Parquet (``soe sample --format parquet``: SKUs x 3
locations x 156 weeks), then ``soe run`` runs in a fresh process exactly as cron would call it. Reported
per size, from the run's own manifest (``phases`` and each notebook's ``seconds`` / ``cells_seconds``):

- wall time of the whole ``soe run`` process (imports and argument parsing included);
- load + validate the inputs, write the snapshot, each notebook (its cells, and the rest: kernel start
  and papermill), HTML copies and table digests;
- peak resident memory of the largest process of the run (``ru_maxrss`` of the waited-for children:
  the runner or one of its kernels);
- how time grows: seconds per 1,000 SKU-locations at each size;
- the largest size again on the Dask engine (``--engine dask``, a LocalCluster of 2 worker processes).
  The peak memory shown is the largest process the run waited for: Dask's workers are not among them
  (the cluster's processes are reaped by their nanny), so for Dask it is the client side only.

Printed and saved; never asserted (these machines are noisy): the figures are the point.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOE = [sys.executable, "-m", "soe_lib.cli"]
LOCATIONS = 3


def _child_peak_gb(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS GB of the largest waited-for descendant, exit code) of ``command``,
    measured in a fresh wrapper process so earlier sizes do not count."""
    probe = (
        "import resource, subprocess, sys, time, json; t = time.perf_counter(); "
        "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
        "print(json.dumps([time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc]))"
    )
    out = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True)
    wall, kb, rc = json.loads(out.stdout.strip().splitlines()[-1])
    return wall, kb / 1024**2, rc


def measure(series: int, workdir: Path, engine: str = "local") -> dict:
    """Generate a company of about ``series`` SKU-locations (once per size) and time one ``soe run`` on it."""
    skus = max(1, series // LOCATIONS)
    data, out = workdir / f"data-{series}", workdir / f"out-{series}-{engine}"
    t = time.perf_counter()
    if not data.exists():
        subprocess.run([*SOE, "sample", "--out", str(data), "--skus", str(skus), "--locations", str(LOCATIONS), "--format", "parquet"],
                       check=True, capture_output=True)
    generate = time.perf_counter() - t
    wall, peak, rc = _child_peak_gb([*SOE, "run", "--data", str(data), "--out", str(out), "--engine", engine])
    if rc != 0:
        raise RuntimeError(f"soe run failed at {series:,} series (exit {rc}); see {out}")
    manifest = json.loads(next(out.glob("20*-W*/manifest.json")).read_text())
    notebooks = {nb["name"]: {"seconds": nb["seconds"], "cells": nb.get("cells_seconds")} for nb in manifest["notebooks"]}
    return {"series": skus * LOCATIONS, "engine": engine, "generate_seconds": round(generate, 1), "wall_seconds": round(wall, 1),
            "peak_gb": round(peak, 2), "phases": manifest.get("phases", {}), "notebooks": notebooks}


def _table(results: list[dict]) -> str:
    names = list(results[0]["notebooks"])
    head = ["phase"] + [f"{r['series']:,}" + (" on Dask" if r["engine"] == "dask" else "") for r in results]
    rows = [["whole `soe run` (wall)"] + [f"{r['wall_seconds']:.1f} s" for r in results]]
    for phase in ("load_and_validate", "snapshot"):
        rows.append([phase.replace("_", " ")] + [f"{r['phases'].get(phase, float('nan')):.1f} s" for r in results])
    for name in names:
        cells = [f"{r['notebooks'][name]['seconds']:.1f} s ({r['notebooks'][name]['cells']:.1f} in cells)" for r in results]
        rows.append([name] + cells)
    rows.append(["html copies + digests"] + [f"{r['phases'].get('html_and_digests', float('nan')):.1f} s" for r in results])
    rows.append(["peak memory, largest process"] + [f"{r['peak_gb']:.2f} GB" for r in results])
    rows.append(["seconds per 1,000 series"] + [f"{1000 * r['wall_seconds'] / r['series']:.2f}" for r in results])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def run(sizes: list[int], dask: bool = True) -> dict:
    """Each size in-process, then the largest again with ``--engine dask`` (a LocalCluster of 2 worker
    processes started by the run: the cluster's start is in its figure)."""
    print(f"== whole weekly cycle: {platform.machine()}, {_cores()} cores, python {platform.python_version()} ==", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="soe-cycle-") as tmp:
        for n, engine in [(n, "local") for n in sizes] + ([(sizes[-1], "dask")] if dask else []):
            r = measure(n, Path(tmp), engine)
            results.append(r)
            print(f"{r['series']:,} series ({engine}): {r['wall_seconds']} s, peak {r['peak_gb']} GB", flush=True)
    print(_table(results), flush=True)
    return {"machine": platform.machine(), "cores": _cores(), "results": results}


def _cores() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    print(json.dumps(run([int(s) for s in sys.argv[1:]] or [10_000, 100_000]), indent=1))
