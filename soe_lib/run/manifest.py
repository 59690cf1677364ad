"""The run manifest (``manifest.json``): what a weekly run read, with which parameters and software,
what it wrote, how long each notebook took, and how it ended."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from ..io.sources import file_sha256

__all__ = ["PACKAGES", "add_inputs", "new_manifest", "table_digests", "utcnow", "versions", "write_manifest"]

PACKAGES = (
    "soe-workbench", "pandas", "numpy", "pyarrow", "pandera", "statsmodels", "altair", "vl-convert-python",
    "papermill", "nbformat", "nbconvert", "ipykernel", "voila", "ipywidgets", "openpyxl", "sqlalchemy",
)
SCHEMA = 1


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def versions() -> dict[str, str]:
    """Python and the version of every package the numbers depend on."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def new_manifest(run_id: str, label: str, started: str, params: dict[str, Any]) -> dict[str, Any]:
    """The manifest of a run that is starting (its inputs are added once the snapshot is written)."""
    return {
        "schema": SCHEMA,
        "run_id": run_id,
        "week": label,
        "status": "running",
        "started_at": started,
        "data_dir": params.get("data_dir"),
        "parameters": {**params, "week": label},
        "inputs": {},
        "notebooks": [],
        "versions": versions(),
        "command": " ".join(sys.argv),
    }


def add_inputs(manifest: dict[str, Any], snapshot: dict[str, Any]) -> None:
    """Each input's file, sha256 and rows, and the validation counts, from ``inputs/snapshot.json``."""
    manifest["inputs"] = {
        name: {"file": Path(src["path"]).name + (f"[{src['sheet']}]" if src["sheet"] else ""), "sha256": src["sha256"], "rows": src["rows"]}
        for name, src in snapshot["sources"].items()
    }
    manifest["validation"] = {"errors": 0, "warnings": sum(1 for p in snapshot["problems"] if p["severity"] == "warning")}


def table_digests(tables_dir: Path) -> dict[str, dict[str, Any]]:
    """sha256 and size of every result table (a table written in parts: of its folder of parts)."""
    found = sorted([*tables_dir.glob("*.parquet"), *(p for p in tables_dir.iterdir() if p.is_dir() and not p.name.startswith("."))])
    return {p.name.removesuffix(".parquet"): {"sha256": file_sha256(p), "bytes": _size(p)} for p in found}


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.glob("*.parquet")) if path.is_dir() else path.stat().st_size


def write_manifest(folder: Path, manifest: dict[str, Any]) -> Path:
    path = folder / "manifest.json"
    tmp = folder / ".manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, default=str))
    os.replace(tmp, path)
    return path
