"""``soe demo``: the weekly loop on the sample company, several weeks in a row, as a team would run it.

For each week: write the week's extract (:mod:`soe_lib.sample.weeks`: demand happens, receipts
arrive, orders slip, the plan is revised at a month boundary, and last week's recorded decisions are
carried out, or not), run the weekly cycle on it (:func:`.runner.run_week`, as cron does), then hold
the meeting through the command line: close the open actions whose item has no gap left, and record
the joint plan's move for the top items of the list (``soe actions record``). The review app then
opens on a week with a history.

The demo's decisions go into the outputs folder's decision log. A log holding decisions made by anyone
else is never touched: the demo refuses and says how to use another folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..core.paths import catalogues_dir, outputs_dir, workspace
from ..io.decision_store import ActionLog, ActionLogError, default_url
from ..io.results import read_table
from ..sample.weeks import write_weeks
from .runner import run_week

__all__ = ["DEMO_BY", "run_demo"]

DEMO_BY = "soe demo"


def _fresh_log(out: Path) -> ActionLog | None:
    """The decision log, emptied of an earlier demo's decisions; None when it holds anyone else's."""
    url = default_url(out)
    log = ActionLog(url)
    mine = log.frame()
    if len(mine) and (mine["created_by"] != DEMO_BY).any():
        return None
    if len(mine) and url.startswith("sqlite:///"):
        log.engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        log = ActionLog(url)
    return log


def _meeting(week: str, out: Path, top: int) -> list[list[str]]:
    """The CLI calls of the week's meeting: close what the loop says is done, record the top moves."""
    calls: list[list[str]] = []
    tables = out / week / "tables"
    outcomes = read_table(tables, "action_outcomes")
    for row in outcomes[outcomes["proposal"].str.startswith("close")].itertuples():
        calls.append(["actions", "update", str(row.action_id), "--status", "done", "--note", "its item has no gap left", "--week", week,
                      "--by", DEMO_BY, "--out", str(out)])
    items = read_table(tables, "decision_list")
    todo = items[items["rank"].notna() & (items["kind"] == "sku-location") & ~items["best_action"].str.startswith("accept")]
    todo = todo[~todo["best_action"].str.startswith("confirm")].head(top)
    for row in todo.itertuples():
        # due in the meeting's week (the order is placed now): the next meeting judges whether it was done
        calls.append(["actions", "record", "--week", week, "--item", row.item_id, "--owner", "planner " + str(row.location), "--by", DEMO_BY,
                      "--due", week, "--out", str(out)])
    return calls


def run_demo(soe: Callable[[list[str]], int], weeks: int = 4, out: Path | None = None, data: Path | None = None, top: int = 3) -> int:
    """Run ``weeks`` consecutive weeks (see the module doc); the exit code of the first failure, else 0.
    ``soe``: the command line's entry point (the meeting goes through the same code as a planner's commands)."""
    out = Path(out) if out else outputs_dir()
    data = Path(data) if data else workspace() / "data" / "demo"
    try:
        log = _fresh_log(out)
    except ActionLogError as exc:
        print(f"demo: the decision log cannot be used ({exc})")
        return 2
    if log is None:
        print(f"demo: {default_url(out)} holds decisions not made by the demo; run it on another folder: soe demo --out DIR")
        return 2
    for k in range(1, weeks + 1):
        folders = write_weeks(data, k, log.frame())  # earlier weeks come out the same: decisions act from the week after
        week = folders[-1].name
        print(f"== demo week {k} of {weeks}: {week} ==", flush=True)
        code = run_week(folders[-1], week, out=out).exit_code
        if code:
            return code
        for call in _meeting(week, out, top):
            if soe(call):
                return 1
    for scenario in sorted((catalogues_dir().parent / "scenarios").glob("*.yaml")):  # the disruption scenarios kept with the last week
        if soe(["scenario", "run", str(scenario), "--week", week, "--out", str(out)]):
            return 1
    final = pd.DataFrame(log.frame())
    print(f"demo: {weeks} weeks in {out}, {len(final)} decisions recorded; `make review` (or `soe review`) opens the meeting app on {week}.")
    return 0
