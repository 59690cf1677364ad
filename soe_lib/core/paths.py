"""Where things live: what ships with the package, and where a user's data and results go.

Two kinds of places, never mixed:

- **Resources** ship with the package (package data): the weekly notebooks, the default parameter
  files and the countermeasure catalogue. In a source checkout they are the top-level ``notebooks/``
  and ``parameters/`` folders; in an installed wheel the same files sit in ``soe_lib/notebooks`` and
  ``soe_lib/parameters`` (``pyproject.toml`` maps one onto the other). ``$SOE_NOTEBOOKS`` and
  ``$SOE_PARAMETERS`` point a run at other folders.
- **User data** (the generated sample company, the weekly outputs, the decision database) lives in
  the *workspace*: ``$SOE_HOME`` when set; else the source checkout when the current directory is
  inside it (so ``make run`` in a clone writes ``./outputs`` as before); else the current directory.
  ``$SOE_OUTPUTS`` and ``$SOE_SAMPLE_DIR`` override the two folders; ``--out`` and ``--data`` override
  them per command. Nothing is ever written into the installed package.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "PACKAGE_DIR",
    "REVIEW_NOTEBOOK",
    "catalogues_dir",
    "notebooks_dir",
    "outputs_dir",
    "parameters_dir",
    "sample_dir",
    "source_checkout",
    "workspace",
]

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # .../soe_lib
REVIEW_NOTEBOOK = "06_weekly_review.ipynb"


def source_checkout() -> Path | None:
    """The project folder when ``soe_lib`` runs from a clone (editable install), else None."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir() else None


def _resource(name: str, env: str) -> Path:
    if os.environ.get(env):
        return Path(os.environ[env])
    packaged = PACKAGE_DIR / name  # inside an installed wheel
    if packaged.is_dir():
        return packaged
    root = source_checkout()
    return root / name if root else packaged


def notebooks_dir() -> Path:
    """The weekly notebooks: ``$SOE_NOTEBOOKS``, the package's copy, or the checkout's ``notebooks/``."""
    return _resource("notebooks", "SOE_NOTEBOOKS")


def parameters_dir() -> Path:
    """The default parameter files: ``$SOE_PARAMETERS``, the package's copy, or the checkout's ``parameters/``."""
    return _resource("parameters", "SOE_PARAMETERS")


def catalogues_dir() -> Path:
    """The countermeasure catalogue's folder (``parameters/catalogues``)."""
    return parameters_dir() / "catalogues"


def workspace() -> Path:
    """Where user data goes by default (see the module doc): ``$SOE_HOME``, the checkout, or the cwd."""
    if os.environ.get("SOE_HOME"):
        return Path(os.environ["SOE_HOME"])
    cwd = Path.cwd().resolve()
    root = source_checkout()
    if root is not None and (cwd == root or root in cwd.parents):
        return root
    return cwd


def outputs_dir() -> Path:
    """Root of the weekly outputs: ``$SOE_OUTPUTS`` or ``<workspace>/outputs``."""
    return Path(os.environ.get("SOE_OUTPUTS") or workspace() / "outputs")


def sample_dir() -> Path:
    """Where the built-in sample company is generated: ``$SOE_SAMPLE_DIR`` or ``<workspace>/data/sample``."""
    return Path(os.environ.get("SOE_SAMPLE_DIR") or workspace() / "data" / "sample")
