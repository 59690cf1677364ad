"""The countermeasure catalogue: each action's cost model, lead time and limit (a YAML file)."""

from __future__ import annotations

from pathlib import Path

import yaml

from ..core.paths import catalogues_dir

__all__ = ["ACTIONS", "load_catalogue"]

ACTIONS = ("expedite", "pull_in", "transfer", "overtime", "build_ahead", "substitute", "raise_order", "new_order", "allocate", "shape_demand", "accept")


def load_catalogue(name: str | Path = "countermeasures.yaml") -> dict:
    """The catalogue YAML (a name in ``parameters/catalogues/`` or a path); every action must be there."""
    path = Path(name)
    if not path.is_absolute() and not path.exists():
        path = catalogues_dir() / path
    catalogue = yaml.safe_load(path.read_text())
    missing = [a for a in ACTIONS if a not in catalogue]
    if missing:
        raise ValueError(f"{path}: the countermeasure catalogue lacks {', '.join(missing)}")
    return catalogue
