"""The countermeasure catalogue: each action's cost model, lead time and limit (a YAML file)."""

from __future__ import annotations

from pathlib import Path

from ..core.items import ACTION_TYPES
from ..core.paths import catalogues_dir
from ..core.yamlfile import read_yaml_file

__all__ = ["ACTIONS", "CatalogueError", "load_catalogue"]

ACTIONS = ACTION_TYPES
# actions added after catalogues were in use, with their defaults (parameters/catalogues/countermeasures.yaml says why)
LATER = {"switch_mode": {"description": "Ship an inbound line not yet shipped on a faster lane", "fixed_cost": 80, "lead_time_weeks": 0}}


class CatalogueError(ValueError):
    """The catalogue cannot be used; the message names the file and what is wrong."""


def _path(name: str | Path) -> Path:
    path = Path(name)
    return path if path.is_absolute() or path.exists() else catalogues_dir() / path


def load_catalogue(name: str | Path = "countermeasures.yaml") -> dict:
    """The catalogue YAML (a name in ``parameters/catalogues/`` or a path): a mapping of every action in
    :data:`ACTIONS` to its settings, numbers where numbers are expected. Anything else is a
    :class:`CatalogueError` naming the file (the run checks it before any notebook starts)."""
    path = _path(name)
    catalogue = read_yaml_file(path, "countermeasure catalogue", CatalogueError)
    if not isinstance(catalogue, dict) or not all(isinstance(v, dict) or v is None for v in catalogue.values()):
        raise CatalogueError(f"{path}: not a countermeasure catalogue (a mapping of each action to its settings is expected)")
    for action, settings in LATER.items():  # a catalogue written before the action existed keeps working
        catalogue.setdefault(action, dict(settings))
    missing = [a for a in ACTIONS if a not in catalogue]
    if missing:
        raise CatalogueError(f"{path}: the countermeasure catalogue lacks {', '.join(missing)}")
    catalogue = {a: dict(v or {}) for a, v in catalogue.items()}
    wrong = [f"{a}.{k}" for a, v in catalogue.items() for k, x in v.items() if k != "description" and (isinstance(x, bool) or not isinstance(x, (int, float)))]
    if wrong:
        raise CatalogueError(f"{path}: not numbers: {', '.join(wrong[:5])}")
    return catalogue
