"""Where things live. Environment variables override the defaults (tests and servers use them)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["NOTEBOOKS", "PARAMETERS", "PROJECT_ROOT", "REVIEW_NOTEBOOK", "outputs_dir", "sample_dir"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = Path(os.environ.get("SOE_NOTEBOOKS", PROJECT_ROOT / "notebooks"))
PARAMETERS = Path(os.environ.get("SOE_PARAMETERS", PROJECT_ROOT / "parameters"))
REVIEW_NOTEBOOK = "05_weekly_review.ipynb"


def outputs_dir() -> Path:
    """Root of the weekly outputs: ``$SOE_OUTPUTS`` or ``<project>/outputs``."""
    return Path(os.environ.get("SOE_OUTPUTS", PROJECT_ROOT / "outputs"))


def sample_dir() -> Path:
    """Where the built-in sample company is generated: ``$SOE_SAMPLE_DIR`` or ``<project>/data/sample``."""
    return Path(os.environ.get("SOE_SAMPLE_DIR", PROJECT_ROOT / "data" / "sample"))
