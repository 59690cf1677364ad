"""Run parameters: defaults from ``parameters/*.yaml``, overrides per run, and a strict name check.

The names a run accepts are the ones the notebooks declare in their ``parameters`` cells (read with
papermill's own inspection, so what is checked is what papermill injects). A misspelled name is an
error, never a silent no-op; papermill itself only warns.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import yaml

from .paths import PARAMETERS

__all__ = ["RUNNER_OWNED", "ParameterError", "declared_parameters", "load_defaults", "load_file", "merge", "parse_set"]

# Set by the runner for every notebook, never by the user.
RUNNER_OWNED = ("out_dir",)


class ParameterError(ValueError):
    """A parameter file or override is invalid (unknown name, bad YAML, duplicate)."""


def load_file(path: Path) -> dict[str, Any]:
    """One YAML mapping of parameter name -> value."""
    try:
        values = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ParameterError(f"{path}: cannot read parameters: {exc}") from exc
    if not isinstance(values, dict):
        raise ParameterError(f"{path}: expected a mapping of name: value, got {type(values).__name__}")
    return {str(k): v for k, v in values.items()}


def load_defaults(folder: Path = PARAMETERS) -> dict[str, Any]:
    """Every ``*.yaml`` in ``folder`` merged; a name defined in two files is an error."""
    merged: dict[str, Any] = {}
    origin: dict[str, Path] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        for name, value in load_file(path).items():
            if name in merged:
                raise ParameterError(f"parameter '{name}' is defined in both {origin[name].name} and {path.name}")
            merged[name], origin[name] = value, path
    return merged


def parse_set(items: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs; VALUE is read as YAML (``13`` is a number, ``'007'`` stays text)."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--set expects NAME=VALUE, got {item!r}")
        out[name.strip()] = yaml.safe_load(value) if value.strip() else None
    return out


def declared_parameters(notebook: Path) -> dict[str, Any]:
    """Names and defaults of a notebook's ``parameters`` cell, as papermill sees them."""
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    out = {}
    for name, info in declared.items():
        try:  # the defaults are Python literals in the notebook
            out[name] = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError):
            out[name] = info["default"]
    return out


def merge(
    defaults: dict[str, Any], overrides: dict[str, Any], known: set[str], source: str = "overrides"
) -> dict[str, Any]:
    """Defaults with overrides on top; any name outside ``known`` (in either) is a :class:`ParameterError`."""
    for label, values in (("parameters/*.yaml", defaults), (source, overrides)):
        unknown = sorted(set(values) - known)
        if unknown:
            raise ParameterError(
                f"unknown parameter(s) in {label}: {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
    return {**defaults, **overrides}
