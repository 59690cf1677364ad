"""The week a notebook works on: the validated snapshot, the run's parameters, and where results go.

Every weekly notebook starts with ``run = open_week(data_dir, week, out_dir, <its parameters>)``.

- Under ``soe run`` the runner has already validated the inputs and written the snapshot and the
  run's full parameter set into the run folder being built; it injects ``out_dir="."``, and
  :func:`open_week` reads both from there (never the live data folder).
- Run by hand in JupyterLab with the defaults (``out_dir=None``), a notebook reads the built-in sample
  company (or ``data_dir``), validates it once, keeps the snapshot in ``outputs/lab/<week>/inputs`` for
  the next notebooks (reused while the input files are unchanged), and writes its tables to
  ``outputs/lab/<week>/``: exploring never touches an archived week.

``run.step(name)`` computes a step with the run's parameters and saves its tables; ``run.table(name)``
reads a table an earlier step wrote, and when it is missing (a notebook run on its own) computes that
step first, with the same parameters, saying so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.dataset import Dataset
from ..core.params import ParameterError, param_specs
from ..core.paths import outputs_dir
from ..core.step import Step
from ..core.weeks import parse_week
from ..io.archive import ArchivedWeek, archived_weeks
from ..io.decision_store import ActionLog, ActionLogError, default_url
from ..io.loading import load_data
from ..io.results import read_table, rows_of, save_table, table_path, write_document
from ..io.snapshot import has_snapshot, read_snapshot, snapshot_key, snapshot_meta, source_hashes, write_snapshot
from ..io.sources import SNAPSHOT_FILE, find_sources
from ..sample.company import ensure_sample
from .parameters import all_specs, check_parameters, default_parameters
from .steps import compute_step, producer_of, step_named

__all__ = ["PARAMETERS_FILE", "RUN_FILE", "WeekRun", "open_week", "prefetch_snapshot", "resolve_data_dir"]

PARAMETERS_FILE = "parameters.json"  # the run's full parameter set, in the run folder
RUN_FILE = "run.json"  # where the run's outputs root is (its decision log sits there)
INPUTS = "inputs"


def resolve_data_dir(data_dir: str | Path | None) -> Path:
    """The data folder given, or the built-in sample company (generated in the workspace on first use)."""
    if data_dir is not None and str(data_dir).strip():
        return Path(data_dir)
    return ensure_sample()


@dataclass
class WeekRun:
    data: Dataset
    out_dir: Path
    params: dict[str, Any]  # every declared parameter of the run
    key: str = ""  # identity of the snapshot (inputs and arguments)
    results: dict[str, Any] = field(default_factory=dict)  # step results computed in this session

    @property
    def week(self) -> pd.Timestamp:
        return self.data.week

    @property
    def label(self) -> str:
        return self.data.week_label

    @property
    def horizon_weeks(self) -> int:
        return int(self.params["horizon_weeks"])

    @property
    def tables_dir(self) -> Path:
        return self.out_dir / "tables"

    @property
    def published_dir(self) -> Path:
        """Where a reader finds this week's results: the week's published folder when ``soe run`` builds it aside
        (``outputs/.staging/<week>-<run id>``, empty once published: ``outputs/<week>``), else where it is written."""
        out = Path(self.out_dir).resolve()
        return out.parent.parent / self.label if out.parent.name == ".staging" else out

    def group(self, cls: type) -> Any:
        """The run's values of one parameter declaration (e.g. ``SensingParams``)."""
        return cls(**{s.name: self.params[s.name] for s in param_specs(cls) if s.name in self.params})

    def step(self, name: str) -> Any:
        """Compute step ``name`` with the run's parameters, save its tables and documents, return its result."""
        step = step_named(name)
        result = compute_step(step, self)
        for table, frame in result.tables().items():
            save_table(self.tables_dir, table, frame)
        for doc, content in getattr(result, "documents", dict)().items():
            write_document(self.out_dir, doc, content)
        self._provenance(step).write_text(json.dumps({"snapshot": self.key, "parameters": self._step_params(step)}, indent=1, default=str))
        self.results[name] = result
        return result

    def table(self, name: str, columns: list[str] | None = None, filters: list[tuple] | None = None) -> pd.DataFrame:
        """A table of an earlier step of this run (week columns as ISO Mondays; ``columns``, ``filters``: only
        those columns and the rows the Parquet filters keep); computed first when it is missing or was made
        from other inputs."""
        self.table_file(name)
        return read_table(self.tables_dir, name, filters=filters, columns=columns)

    def rows(self, name: str, series: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
        """The rows of an earlier step's table of the SKU-locations ``series`` (a chart's one series of 13M rows)."""
        self.table_file(name)
        return rows_of(self.tables_dir, name, series, columns)

    def snapshot_rows(self, first: int, stop: int) -> Dataset:
        """The snapshot's series keys ``[first, stop)`` (read with row filters from the run folder's snapshot, as a
        part on a worker reads it), e.g. one series to sense again for a chart."""
        return read_snapshot(self.out_dir / INPUTS, (first, stop))

    def table_file(self, name: str) -> Path:
        """The file of a table of an earlier step of this run, computed first when it is missing or was
        made from other inputs (for a reader elsewhere, such as a Dask worker reading its part)."""
        step = producer_of(name)
        made = self._made_by(step)
        if made is None or made.get("snapshot") != self.key or not table_path(self.tables_dir, name).exists():
            why = "is not in" if made is None else "was made from other inputs than"
            print(f"'{name}' {why} {self.out_dir}: computing step '{step.name}' ({step.notebook}) with this run's parameters first.")
            self.step(step.name)
        else:
            differ = {k: v for k, v in made.get("parameters", {}).items() if self.params.get(k) != v}
            if differ:
                print(f"note: '{name}' was computed by {step.notebook} with {differ} (this notebook's defaults differ).")
        return table_path(self.tables_dir, name)

    @property
    def outputs_root(self) -> Path:
        """The outputs folder the week belongs to (the run's, or the workspace's when run by hand)."""
        run_file = self.out_dir / RUN_FILE
        return Path(json.loads(run_file.read_text())["outputs"]) if run_file.exists() else outputs_dir()

    def open_actions(self) -> pd.DataFrame:
        """Actions recorded in earlier weeks and not closed (empty without a decision log). A log that
        cannot be read is said and treated as empty: the week is still computed."""
        url = default_url(self.outputs_root)
        database = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
        if database is not None and not Path(database).exists():
            return pd.DataFrame(columns=["id", "item_id", "status", "item_shortage_qty"])
        try:
            return ActionLog(url).open_actions(self.label)
        except ActionLogError as exc:
            print(f"note: open actions not read ({exc}): no item is shown in hand this week.")
            return pd.DataFrame(columns=["id", "item_id", "status", "item_shortage_qty"])

    def actions(self) -> pd.DataFrame:
        """Every action recorded before this week, open or closed (empty without a decision log)."""
        url = default_url(self.outputs_root)
        database = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
        if database is not None and not Path(database).exists():
            return pd.DataFrame()
        try:
            log = ActionLog(url)
            return log.frame(log.decided_before(self.label))
        except ActionLogError as exc:
            print(f"note: the decision log was not read ({exc}): no outcomes this week.")
            return pd.DataFrame()

    def archive(self) -> list[ArchivedWeek]:
        """The successful weeks published before this one, newest first (the run's outputs folder)."""
        return archived_weeks(self.outputs_root, before=self.label)

    def save(self, name: str, frame: pd.DataFrame) -> Path:
        """Write one declared result table (checked against the output contract)."""
        return save_table(self.tables_dir, name, frame)

    def _provenance(self, step: Step) -> Path:
        folder = self.out_dir / "steps"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{step.name}.json"

    def _made_by(self, step: Step) -> dict | None:
        path = self.out_dir / "steps" / f"{step.name}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def _step_params(self, step: Step) -> dict[str, Any]:
        names = {"horizon_weeks"} | {s.name for g in step.groups for s in param_specs(g)}
        return {k: self.params[k] for k in sorted(names) if k in self.params}


def _lab_snapshot(key: str) -> Path | None:
    """An earlier lab folder holding the snapshot of the same inputs and arguments."""
    lab = outputs_dir() / "lab"
    for meta in sorted(lab.glob(f"*/{INPUTS}/{SNAPSHOT_FILE}")) if lab.is_dir() else []:
        try:
            if json.loads(meta.read_text()).get("key") == key:
                return meta.parent.parent
        except (OSError, ValueError):
            continue
    return None


def _snapshot_for(data_dir: str | Path | None, week: str | None, horizon_weeks: int, out_dir: Path | None) -> tuple[Dataset, Path, str]:
    """Load and validate the inputs once, keeping the snapshot in ``out_dir`` (or a lab folder)."""
    folder = resolve_data_dir(data_dir)
    sources, problems = find_sources(folder)
    hashes = source_hashes(sources) if not problems else {}
    key = snapshot_key(hashes, week, horizon_weeks)
    if out_dir is None and hashes and (lab := _lab_snapshot(key)) is not None:
        return read_snapshot(lab / INPUTS), lab, key
    # exploring by hand, any week may be looked at: a week that does not follow the actuals is a warning
    data = load_data(folder, week=week, horizon_weeks=horizon_weeks, week_check="warning")  # raises ValidationError, naming rows
    out = Path(out_dir) if out_dir is not None else outputs_dir() / "lab" / data.week_label
    write_snapshot(data, out / INPUTS, hashes, key)
    return data, out, key


# A snapshot read ahead by a warm kernel (soe run starts the next notebook's kernel while the current one
# runs): taken once by the notebook's open_week, only when it is the same snapshot (its key).
_PREFETCHED: dict[str, tuple[str, Dataset]] = {}


def prefetch_snapshot(folder: str | Path, tables: dict[str, tuple[str, ...] | None] | None = None) -> None:
    """Open the snapshot in ``folder`` now and read ``tables`` of it (``{table: columns, or None for all}``; the
    others are read when used), for the next :func:`open_week` on it in this process."""
    folder = Path(folder).resolve()
    data = read_snapshot(folder)
    for name, columns in (tables or {}).items():
        if columns:
            data.columns(name, tuple(columns))
        else:
            data.tables[name]
    _PREFETCHED[str(folder)] = (snapshot_meta(folder).get("key", ""), data)


def _take_prefetched(folder: Path, key: str) -> Dataset | None:
    key_then, data = _PREFETCHED.pop(str(Path(folder).resolve()), ("", None))
    return data if data is not None and key_then == key else None


def open_week(data_dir: str | Path | None = None, week: str | None = None, out_dir: str | Path | None = None, **params: Any) -> WeekRun:
    """The week to work on (see the module doc); ``params``: the notebook's own parameters."""
    specs = all_specs()
    unknown = sorted(set(params) - set(specs))
    if unknown:
        raise ParameterError(f"open_week: unknown parameter(s) {', '.join(unknown)}")
    given = check_parameters({**params, "week": week, "data_dir": None if data_dir is None else str(data_dir)}, "notebook parameters")
    horizon = int(given.get("horizon_weeks", specs["horizon_weeks"].default))
    folder = Path(out_dir).resolve() if out_dir is not None else None
    if folder is not None and has_snapshot(folder / INPUTS):
        key = snapshot_meta(folder / INPUTS).get("key", "")
        data = _take_prefetched(folder / INPUTS, key) or read_snapshot(folder / INPUTS)
        if given["week"] is not None and parse_week(given["week"]) != data.week:
            raise ParameterError(f"the snapshot in {folder} is for week {data.week_label}, not {given['week']}")
    else:
        data, folder, key = _snapshot_for(data_dir, given["week"], horizon, folder)
    run_file = folder / PARAMETERS_FILE
    base = json.loads(run_file.read_text()) if run_file.exists() else default_parameters()
    merged = {**base, **{k: v for k, v in given.items() if k not in ("week", "data_dir")}}
    merged.update(week=data.week_label, data_dir=str(data.data_dir))
    folder.mkdir(parents=True, exist_ok=True)
    return WeekRun(data, folder, merged, key)
