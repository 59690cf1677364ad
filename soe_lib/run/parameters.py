"""Run parameters: the declared defaults, the files that show them, overrides per run, and strict checks.

The source of every default is its declaration in the step that uses it (:mod:`soe_lib.core.params`;
:data:`PARAMETER_FILES` lists the declaring classes). ``parameters/*.yaml`` show those defaults with
their meaning (:func:`render_parameter_file`; ``soe params --write`` regenerates them and a test keeps
the committed files equal): copy one, change what you need, and pass it with ``--params``.

The names a run accepts are the ones the notebooks declare in their ``parameters`` cells (read with
papermill's own inspection, so what is checked is what papermill injects). A misspelled name is an
error, never a silent no-op (papermill itself only warns); a value of the wrong type or out of its
range is refused before any notebook starts.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Any

import yaml

from ..allocation import AllocationParams
from ..core.params import CycleParams, EngineParams, FocusParams, ParameterError, ParamSpec, check_value, param_specs, shown
from ..finance import FinanceParams
from ..logistics import LogisticsParams
from ..loop import LoopParams
from ..sensing import ExceptionParams, SensingParams
from ..supply import SupplyParams

__all__ = [
    "PARAMETER_FILES",
    "RUNNER_OWNED",
    "RUN_LEVEL",
    "ParameterError",
    "all_specs",
    "check_parameters",
    "declared_parameters",
    "default_parameters",
    "load_file",
    "merge",
    "parse_set",
    "render_parameter_file",
    "write_parameter_files",
]

# Set by the runner for every notebook, never by the user.
RUNNER_OWNED = ("out_dir",)
# Run-wide settings no notebook declares: the run keeps them in its parameters.json, where every step
# reads them (so the notebooks stay the same whichever engine runs the per-series work).
RUN_LEVEL = tuple(s.name for s in param_specs(EngineParams))

# Which declarations each file of parameters/ shows.
PARAMETER_FILES: dict[str, tuple[type, ...]] = {
    "weekly.yaml": (CycleParams, FocusParams, EngineParams),
    "sensing.yaml": (SensingParams, ExceptionParams),
    "supply.yaml": (SupplyParams,),
    "logistics.yaml": (LogisticsParams,),
    "allocation.yaml": (AllocationParams,),
    "finance.yaml": (FinanceParams,),
    "loop.yaml": (LoopParams,),
}


def all_specs() -> dict[str, ParamSpec]:
    """Every declared run parameter by name (a name declared twice is a bug)."""
    specs: dict[str, ParamSpec] = {}
    for groups in PARAMETER_FILES.values():
        for group in groups:
            for spec in param_specs(group):
                if spec.name in specs:
                    raise ParameterError(f"parameter '{spec.name}' is declared by both {specs[spec.name].group} and {spec.group}")
                specs[spec.name] = spec
    return specs


def default_parameters() -> dict[str, Any]:
    """Every declared parameter with its default."""
    return {name: spec.default for name, spec in all_specs().items()}


def render_parameter_file(name: str) -> str:
    """The text of ``parameters/<name>``: each declaring class's doc, then each parameter's meaning,
    allowed values and default."""
    lines = [
        f"# Default run parameters, generated from their declarations in soe_lib (soe params --write {Path('parameters')}).",
        "# Do not edit: copy the names you want to change into your own file and run `soe run --params FILE`.",
    ]
    for group in PARAMETER_FILES[name]:
        lines += [""] + [f"# {line.strip()}" for line in (group.__doc__ or group.__name__).strip().splitlines()]  # every line a comment
        for spec in param_specs(group):
            doc = f"{spec.doc} ({spec.rule})"
            lines += [""] + [f"# {part}" for part in textwrap.wrap(doc, 116)]
            lines.append(yaml.safe_dump({spec.name: spec.default}, default_flow_style=False, sort_keys=False).strip())
    return "\n".join(lines) + "\n"


def write_parameter_files(folder: Path) -> list[Path]:
    """Write every ``parameters/*.yaml`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in PARAMETER_FILES:
        (folder / name).write_text(render_parameter_file(name))
        paths.append(folder / name)
    return paths


MAX_PARAMETER_FILE = 1 << 20  # a parameter file is a few hundred bytes: beyond a megabyte it is not one


def read_yaml(text: str, where: str) -> Any:
    """YAML as plain data: no tags beyond YAML's own (``safe_load``), and **no aliases** (``&a`` / ``*a``: a
    few lines of them expand to gigabytes, the "billion laughs"); any fault is a :class:`ParameterError`
    saying where, never a traceback."""
    try:
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader)):
            raise ParameterError(f"{where}: YAML aliases (*name) are not accepted in parameters; write each value out")
        return yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, OverflowError, TypeError) as exc:  # a number of a million digits is a ValueError
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ParameterError(f"{where}: not readable as YAML ({shown(why)})") from None
    except RecursionError:
        raise ParameterError(f"{where}: nested too deeply to be parameters") from None


def load_file(path: Path) -> dict[str, Any]:
    """One YAML mapping of parameter name -> value (UTF-8 text; see :func:`read_yaml`)."""
    try:
        raw = Path(path).read_bytes()[: MAX_PARAMETER_FILE + 1]
    except OSError as exc:
        raise ParameterError(f"{path}: cannot read parameters: {exc.strerror or exc}") from None
    if len(raw) > MAX_PARAMETER_FILE:
        raise ParameterError(f"{path}: larger than {MAX_PARAMETER_FILE:,} bytes: not a parameter file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ParameterError(f"{path}: not a text file (a YAML file of name: value lines is expected)") from None
    if "\x00" in text:
        raise ParameterError(f"{path}: not a text file (a YAML file of name: value lines is expected)")
    values = read_yaml(text, str(path)) or {}
    if not isinstance(values, dict):
        raise ParameterError(f"{path}: expected a mapping of name: value, got {type(values).__name__}")
    return {str(k): v for k, v in values.items()}


def parse_set(items: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs; VALUE is read as YAML (``13`` is a number, ``'007'`` stays text; see :func:`read_yaml`)."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--set expects NAME=VALUE, got {shown(item)}")
        out[name.strip()] = read_yaml(value, f"--set {shown(name.strip(), 60)}") if value.strip() else None
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


def check_parameters(values: dict[str, Any], source: str = "parameters") -> dict[str, Any]:
    """``values`` with each declared parameter checked against its type and range (and an int given
    for a float made a float); :class:`ParameterError` for the first that does not fit."""
    specs = all_specs()
    return {name: check_value(specs[name], value, source) if name in specs else value for name, value in values.items()}


def merge(defaults: dict[str, Any], overrides: dict[str, Any], known: set[str], source: str = "overrides") -> dict[str, Any]:
    """Defaults with overrides on top, checked: a name outside ``known`` or a value that does not fit
    its declaration is a :class:`ParameterError` naming where it came from."""
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ParameterError(f"unknown parameter(s) in {source}: {', '.join(shown(u, 60) for u in unknown[:10])}{' and more' if len(unknown) > 10 else ''}; known: {', '.join(sorted(known))}")
    return {**check_parameters(defaults, "declared defaults"), **check_parameters(overrides, source)}
