"""A disruption scenario run against an archived week: the week recomputed with the scenario's events, side by side
with the week as it was run, and what each event adds.

The scenario's events (:mod:`soe_lib.logistics.disruption`) move the stated ETAs of the open lines they touch; the
logistics, supply and finance steps are computed again on the week's own snapshot and parameters with the moved
lines (sensing's tables are the week's: a disruption moves supply, not demand), once per prefix of the events::

    stage 0 = no event (the week recomputed: its figures are the archived week's), stage k = events 1..k

``scenario_comparison`` holds the **base** (stage 0), each **event**'s part (stage k minus stage k-1: what it adds
beside the events before it) and the **scenario** (stage n), so that every measure adds up exactly::

    base + sum of the events' parts = scenario

Saved with the week under ``outputs/<week>/scenarios/<name>/``: the scenario as given, ``scenario_comparison`` and
``scenario_lines`` (every line the events moved), and the scenario run's own tables (``run/tables``: its gaps,
money, options and plan), built aside and put in place only when complete.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..core.formats import side_by_side
from ..core.outputs import OUTPUTS
from ..io.results import read_table, save_table
from ..io.snapshot import read_snapshot
from ..logistics import Scenario, read_scenario
from .steps import STEPS
from .week import INPUTS, PARAMETERS_FILE, RUN_FILE, WeekRun, open_week

__all__ = ["MEASURES", "ScenarioResult", "run_scenario", "run_scenario_file"]

RECOMPUTED = ("logistics", "supply", "finance")  # the steps a moved ETA changes, in order
MEASURES = ("margin_at_risk", "shortage_gaps", "units_short", "decision_items", "plan_actions", "plan_net_benefit", "plan_cost",
            "lines_moved", "units_moved")
FOLDER = "scenarios"


@dataclass
class ScenarioResult:
    scenario: Scenario
    folder: Path  # outputs/<week>/scenarios/<slug>
    comparison: pd.DataFrame  # scenario_comparison
    lines: pd.DataFrame  # scenario_lines

    def text(self, currency: str = "") -> str:
        """The comparison as a person reads it: a row per measure, a column for the base, each event (what it adds,
        signed) and the scenario; money with its currency."""
        c = self.comparison.assign(_col=[f"{p}: {w}" if p.startswith("event") else p for p, w in zip(self.comparison["part"], self.comparison["what"], strict=True)])
        return side_by_side(c, MEASURES, "_col", currency=currency).rename(columns={"measure": ""}).to_string(index=False)


def _stage_folder(week: WeekRun, folder: Path) -> Path:
    """A folder where the recomputed steps can write: the tables of the steps not recomputed copied from the week
    (copies, never links: a step rewrites its files), with their provenance and the run's outputs root."""
    kept = {s.name for s in STEPS} - set(RECOMPUTED)
    (folder / "tables").mkdir(parents=True)
    (folder / "steps").mkdir()
    for name, table in OUTPUTS.items():
        source = week.tables_dir / f"{name}.parquet"
        if table.step in kept and source.exists():
            shutil.copy2(source, folder / "tables" / source.name)
    for name in kept:
        if (made := week.out_dir / "steps" / f"{name}.json").exists():
            shutil.copy2(made, folder / "steps" / made.name)
    for file in (RUN_FILE, PARAMETERS_FILE):
        if (week.out_dir / file).exists():
            shutil.copy2(week.out_dir / file, folder / file)
    return folder


def _measures(finance, supply_gaps: pd.DataFrame, lines: pd.DataFrame) -> dict[str, float]:
    """The figures a stage is compared by (module doc)."""
    short = supply_gaps[supply_gaps["kind"] == "shortage"]
    chosen = finance.chosen()
    return {
        "margin_at_risk": float(finance.impact["margin_at_risk"].sum()), "shortage_gaps": float(len(short)),
        "units_short": float(short["shortage_qty"].sum()), "decision_items": float(finance.candidates), "plan_actions": float(len(chosen)),
        "plan_net_benefit": float(finance.plan.reprojected) if len(chosen) else 0.0, "plan_cost": float(chosen["chosen_cost"].sum()),
        "lines_moved": float(len(lines)), "units_moved": float(lines["qty"].sum()) if len(lines) else 0.0,
    }


def _stage(week: WeekRun, scenario: Scenario, events: int, folder: Path) -> tuple[dict[str, float], pd.DataFrame, WeekRun]:
    """The week recomputed with the scenario's first ``events`` events in ``folder``: (its measures, the lines they
    moved, the run)."""
    data = read_snapshot(week.out_dir / INPUTS)
    supply = data.supply.copy()
    lines = supply.assign(line_id=range(len(supply)))
    moved = scenario.moved(lines, events)
    if len(moved):
        eta = supply["eta_week"].astype("datetime64[ns]").copy()
        eta.iloc[moved["line_id"].to_numpy()] = moved["scenario_eta_week"].to_numpy()
        supply["eta_week"] = eta
        data.tables["supply"] = supply
    run = WeekRun(data, _stage_folder(week, folder), {**week.params, "engine": "local"}, week.key)
    results = {name: run.step(name) for name in RECOMPUTED}
    return _measures(results["finance"], read_table(run.tables_dir, "supply_gaps"), moved), moved, run


def _comparison(scenario: Scenario, stages: list[dict[str, float]]) -> pd.DataFrame:
    """``scenario_comparison``: base, each event's part, the scenario (module doc)."""
    rows = [{"part": "base", "what": "the week as run", "kind": "level", **stages[0]}]
    for k in range(1, len(scenario.events) + 1):
        rows.append({"part": f"event {k}", "what": scenario.describe(k), "kind": "change",
                     **{m: stages[k][m] - stages[k - 1][m] for m in MEASURES}})
    rows.append({"part": "scenario", "what": scenario.name, "kind": "level", **stages[-1]})
    out = pd.DataFrame(rows)
    out.insert(0, "scenario", scenario.name)
    out.insert(1, "row", range(len(out)))
    return out.astype({"row": "int64", **{m: "float64" for m in MEASURES}})


def run_scenario(week_dir: str | Path, scenario: Scenario, text: str = "") -> ScenarioResult:
    """Run ``scenario`` against the archived week in ``week_dir`` and save it there (module doc); ``text``: the
    scenario file as given (kept beside the results)."""
    week = open_week(out_dir=week_dir)
    target = Path(week_dir) / FOLDER / scenario.slug
    aside = target.parent / f".{scenario.slug}.building"
    shutil.rmtree(aside, ignore_errors=True)
    stages, last = [], None
    try:
        for k in range(len(scenario.events) + 1):
            figures, moved, last = _stage(week, scenario, k, aside / "stages" / str(k))
            stages.append(figures)
        comparison = _comparison(scenario, stages)
        lines = moved.assign(scenario=scenario.name).reindex(columns=OUTPUTS["scenario_lines"].names)
        save_table(aside, "scenario_comparison", comparison)
        save_table(aside, "scenario_lines", lines)
        (aside / "scenario.yaml").write_text(text or json.dumps({"name": scenario.name}))
        shutil.move(str(last.out_dir), str(aside / "run"))  # the scenario's own run: its gaps, money and plan
        shutil.rmtree(aside / "stages")
        shutil.rmtree(target, ignore_errors=True)
        aside.rename(target)
    finally:
        shutil.rmtree(aside, ignore_errors=True)
    return ScenarioResult(scenario, target, comparison, lines)


def run_scenario_file(path: str | Path, week_dir: str | Path) -> ScenarioResult:
    """:func:`run_scenario` of the scenario in the YAML file ``path`` (a ``ScenarioError``, a ValueError, naming the file
    and what is wrong when it cannot be read)."""
    scenario = read_scenario(path)
    return run_scenario(week_dir, scenario, Path(path).read_text(encoding="utf-8-sig"))
