"""The whole weekly cycle, from input files to the published week, at several sizes.

For each size the sample company is generated as Parquet (``soe sample --format parquet``: SKUs x 3
locations x 156 weeks), then ``soe run`` runs in a fresh process exactly as cron would call it. Reported
per size, from the run's own manifest (``phases`` and each notebook's ``seconds`` / ``cells_seconds``):

- wall time of the whole ``soe run`` process (imports and argument parsing included);
- load + validate the inputs, write the snapshot, each notebook (its cells, and the rest: kernel start
  and papermill), HTML copies and table digests;
- peak resident memory of the largest process of the run, and of all its processes together (the
  runner, its kernels, Dask's nannies and workers; sampled every 0.2 s);
- how time grows: seconds per 1,000 SKU-locations at each size;
- the largest size again on the Dask engine (``--engine dask``, a LocalCluster of 2 worker processes);
- a large company (1M SKU-locations by default) on Dask only, written by ``soe sample --parts`` as
  folders of Parquet parts and validated part by part on the cluster.

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


def _run_sampled(command: list[str]) -> tuple[float, float, float, int]:
    """(wall seconds, peak RSS GB of the largest process, peak RSS GB of the whole process tree, exit code)
    of ``command``: its processes (the runner, its kernels, Dask's nannies and workers) sampled every 0.2 s."""
    import psutil

    t = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    top = psutil.Process(proc.pid)
    largest = total = 0.0
    while proc.poll() is None:
        rss = []
        for p in [top, *top.children(recursive=True)]:
            try:
                rss.append(p.memory_info().rss)
            except psutil.Error:  # ended between the listing and the reading
                continue
        largest, total = max(largest, max(rss, default=0)), max(total, sum(rss))
        time.sleep(0.2)
    return time.perf_counter() - t, largest / 1024**3, total / 1024**3, proc.returncode


def measure(series: int, workdir: Path, engine: str = "local", parts: int = 1, partitions: int | None = None) -> dict:
    """Generate a company of about ``series`` SKU-locations (once per size; in ``parts`` blocks written as
    folders of Parquet parts when ``parts`` > 1) and time one ``soe run`` on it."""
    skus = max(1, series // LOCATIONS)
    data, out = workdir / f"data-{series}", workdir / f"out-{series}-{engine}"
    t = time.perf_counter()
    if not data.exists():
        subprocess.run([*SOE, "sample", "--out", str(data), "--skus", str(skus), "--locations", str(LOCATIONS), "--format", "parquet",
                        "--parts", str(parts)], check=True, capture_output=True)
    generate = time.perf_counter() - t
    os.sync()  # the company's files on disk before the clock starts: the generator's writes are not the run's time
    command = [*SOE, "run", "--data", str(data), "--out", str(out), "--engine", engine] + (["--partitions", str(partitions)] if partitions else [])
    wall, peak, tree, rc = _run_sampled(command)
    if rc != 0:
        raise RuntimeError(f"soe run failed at {series:,} series (exit {rc}); see {out}")
    manifest = json.loads(next(out.glob("20*-W*/manifest.json")).read_text())
    notebooks = {nb["name"]: {"seconds": nb["seconds"], "cells": nb.get("cells_seconds"), "kernel_gb": nb.get("kernel_peak_gb")}
                 for nb in manifest["notebooks"]}
    return {"series": skus * LOCATIONS, "engine": engine, "parts": parts, "partitions": partitions, "generate_seconds": round(generate, 1),
            "wall_seconds": round(wall, 1), "peak_gb": round(peak, 2), "tree_gb": round(tree, 2), "phases": manifest.get("phases", {}),
            "notebooks": notebooks}


def _notebook_cell(nb: dict) -> str:
    """Time, time in cells, and the peak memory of the notebook's kernel (VmHWM) when the run recorded it
    (a notebook run beside the chain has its own process: not recorded)."""
    peak = f"; kernel {nb['kernel_gb']:.2f} GB" if nb.get("kernel_gb") is not None else ""
    return f"{nb['seconds']:.1f} s ({nb['cells']:.1f} in cells{peak})"


def _table(results: list[dict]) -> str:
    names = list(results[0]["notebooks"])
    head = ["phase"] + [f"{r['series']:,}" + (" on Dask" if r["engine"] == "dask" else "") + (f" ({r['parts']} parts)" if r.get("parts", 1) > 1 else "")
                        for r in results]
    rows = [["whole `soe run` (wall)"] + [f"{r['wall_seconds']:.1f} s" for r in results]]
    for phase in ("load_and_validate", "snapshot"):
        rows.append([phase.replace("_", " ")] + [f"{r['phases'].get(phase, float('nan')):.1f} s" for r in results])
    for name in names:
        cells = [_notebook_cell(r["notebooks"][name]) for r in results]
        rows.append([name] + cells)
    rows.append(["html copies + digests"] + [f"{r['phases'].get('html_and_digests', float('nan')):.1f} s" for r in results])
    rows.append(["generating the company (`soe sample`)"] + [f"{r['generate_seconds']:.0f} s" for r in results])
    rows.append(["peak memory, largest process"] + [f"{r['peak_gb']:.2f} GB" for r in results])
    rows.append(["peak memory, all processes of the run"] + [f"{r['tree_gb']:.2f} GB" for r in results])
    rows.append(["seconds per 1,000 series"] + [f"{1000 * r['wall_seconds'] / r['series']:.2f}" for r in results])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def run(sizes: list[int], dask: bool = True, large: int = 0, parts: int = 20, partitions: int = 40) -> dict:
    """Each size in-process, then the largest again with ``--engine dask`` (a LocalCluster of 2 worker
    processes started by the run: the cluster's start is in its figure), then ``large`` SKU-locations
    (0: not) on Dask only, generated in ``parts`` blocks and sensed in ``partitions`` parts."""
    print(f"== whole weekly cycle: {platform.machine()}, {_cores()} cores, python {platform.python_version()} ==", flush=True)
    results = []
    runs = [(n, "local", 1, None) for n in sizes] + ([(sizes[-1], "dask", 1, None)] if dask else [])
    runs += [(large, "dask", parts, partitions)] if large else []
    with tempfile.TemporaryDirectory(prefix="soe-cycle-") as tmp:
        for n, engine, k, m in runs:
            r = measure(n, Path(tmp), engine, k, m)
            results.append(r)
            print(f"{r['series']:,} series ({engine}): {r['wall_seconds']} s, peak {r['peak_gb']} GB (all processes {r['tree_gb']} GB)", flush=True)
    print(_table(results), flush=True)
    return {"machine": platform.machine(), "cores": _cores(), "results": results}


def _cores() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    print(json.dumps(run([int(s) for s in sys.argv[1:]] or [10_000, 100_000]), indent=1))
