"""The ``soe`` command: a thin wrapper over the library (as papermill's CLI is over ``execute``).

Exit codes (for schedulers): 0 success; 1 a notebook failed (see ``outputs/failed-runs/``);
2 invalid input data, parameters or usage; 3 another run is in progress.

User data goes to the workspace (``$SOE_HOME``, the source checkout, or the current directory; see
:mod:`soe_lib.core.paths`) unless ``--out`` / ``--data`` say otherwise.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["build_parser", "main"]


def _bounded(name: str, low: int, high: int):
    """An argparse type: a whole number from ``low`` to ``high`` (else a usage error, exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number from {low} to {high}, not {text[:40]!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be from {low} to {high}, not {value}")
        return value

    return parse


# A page's kernel counts as idle from the moment its notebook has run, while the browser still loads the page's
# scripts and connects; with 20 pages joining 1.5 s apart on 2 cores that took 10-15 s, and with a 10 s delay the
# culler shut down 4-8 of 20 kernels before their pages connected (the pages stayed without widgets; with 60 s none).
MIN_CULL_SECONDS = 30

_port, _sessions = _bounded("a port", 1, 65535), _bounded("sessions", 1, 1000)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="soe", description="S&OE workbench: the weekly Sales & Operations Execution cycle")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample", help="generate the sample company (deterministic for a seed)")
    p.add_argument("--out", type=Path, default=None, help="folder to write the tables into (default: the workspace's data/sample)")
    p.add_argument("--skus", type=int, default=40)
    p.add_argument("--locations", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--format", choices=("csv", "parquet", "xlsx"), default="csv")
    p.add_argument("--parts", type=int, default=1,
                   help="write a large company in N blocks of SKUs, never held in memory whole (Parquet; a folder of parts per weekly table)")

    p.add_argument("--weeks", type=int, default=1, help="consecutive weekly extracts in which execution happens, one folder per week")
    p.add_argument("--actions-db", default=None, metavar="URL",
                   help="with --weeks: decisions recorded in this log are carried out in the following weeks (default: none)")

    p = sub.add_parser("validate", help="check a data folder against the data contract")
    p.add_argument("--data", type=Path, default=None, help="data folder (default: the sample company)")
    p.add_argument("--week", default=None, help="run week, e.g. 2026-W48 (default: after the last actuals)")
    p.add_argument("--all", action="store_true", help="also list info-level notes")
    p.add_argument("--any-week", action="store_true", help="accept a run week that is not the week after the last actuals (a warning)")

    p = sub.add_parser("run", help="run the weekly cycle (what cron calls)")
    p.add_argument("--data", type=Path, default=None, help="data folder (default: the sample company)")
    p.add_argument("--week", default=None, help="run week, e.g. 2026-W48 (default: after the last actuals)")
    p.add_argument("--params", type=Path, default=None, help="YAML file of parameter overrides (see `soe params`)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override one parameter")
    p.add_argument("--out", type=Path, default=None, help="outputs folder (default: the workspace's outputs/)")
    p.add_argument("--any-week", action="store_true", help="accept a run week that is not the week after the last actuals (a warning)")
    p.add_argument("--engine", choices=("local", "dask"), default=None,
                   help="where the per-series work runs: local (default) or dask (docs/scale.md)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="with --engine dask: the scheduler (tcp://host:8786); default a local cluster on 127.0.0.1")
    p.add_argument("--partitions", type=int, default=None, metavar="N", help="with --engine dask: parts the SKU-locations are split into")

    p = sub.add_parser("review", help="serve the weekly review meeting app (Voila) on 127.0.0.1")
    p.add_argument("--out", type=Path, default=None, help="outputs folder to read")
    p.add_argument("--port", type=_port, default=8866)
    p.add_argument("--ip", default="127.0.0.1", help="address to listen on; beyond this machine a --token is required")
    p.add_argument("--token", default=os.environ.get("SOE_REVIEW_TOKEN"), help="access token (default: $SOE_REVIEW_TOKEN)")
    p.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                   help="a host name the page may be reached as (e.g. behind a reverse proxy); repeatable")
    p.add_argument("--cull-after", type=_bounded("seconds", MIN_CULL_SECONDS, 86_400), default=60, metavar="SECONDS",
                   help=f"shut down the kernel of a page closed or never connected after this idle time (default 60, at least "
                        f"{MIN_CULL_SECONDS}: a page on a busy server may take that long to connect)")
    p.add_argument("--max-sessions", type=_sessions, default=20, metavar="N",
                   help="pages served at once (each has its own kernel, ~150-230 MB); one more is asked to wait (default 20)")
    p.add_argument("--pdf", nargs="?", const="latest", default=None, metavar="WEEK",
                   help="instead of serving: print the meeting (first screen and decision list) of WEEK (default: the latest) to a PDF")
    p.add_argument("--to", type=Path, default=None, metavar="FILE", help="with --pdf: where to write it (default: outputs/WEEK/meeting-WEEK.pdf)")

    p = sub.add_parser("lab", help="open JupyterLab on the weekly notebooks (127.0.0.1)")
    p.add_argument("--port", type=_port, default=8888)

    sub.add_parser("contract", help="print the input data contract as markdown")
    sub.add_parser("outputs", help="print the output contract (every result table and column) as markdown")
    p = sub.add_parser("params", help="print the default run parameters as YAML (a starting point for --params)")
    p.add_argument("--write", type=Path, default=None, metavar="DIR", help="write the parameters/*.yaml files into DIR instead")
    p = sub.add_parser("runs", help="list the weekly runs in the outputs folder")
    p.add_argument("--out", type=Path, default=None)
    _actions_parser(sub)
    p = sub.add_parser("scenario", help="disruption scenarios against a published week")
    scen = p.add_subparsers(dest="scenario_command", required=True)
    a = scen.add_parser("run", help="recompute a published week with a scenario's events and compare it with the week as run")
    a.add_argument("file", type=Path, help="the scenario (YAML: name, events; docs/logistics.md)")
    a.add_argument("--week", required=True, help="the published week, e.g. 2026-W48 (or latest)")
    a.add_argument("--out", type=Path, default=None, help="outputs folder (default: the workspace's outputs/)")
    p = sub.add_parser("promise", help="when a new order can be promised: from stock and receipts (ATP) and from capacity (CTP)")
    p.add_argument("--sku", required=True)
    p.add_argument("--location", required=True)
    p.add_argument("--qty", type=float, required=True, help="units")
    p.add_argument("--week", default=None, help="the week asked for (ISO week): what it would take from other lines if earlier than ATP")
    p.add_argument("--customer", default=None, help="who asks (its tier says which lines may give)")
    p.add_argument("--at", default="latest", help="the published week to read (default: the latest)")
    p.add_argument("--out", type=Path, default=None, help="outputs folder (default: the workspace's outputs/)")
    p = sub.add_parser("demo", help="run several consecutive weeks of the sample company, recording the top decisions each week")
    p.add_argument("--weeks", type=int, default=4)
    p.add_argument("--top", type=int, default=3, help="decisions recorded per week (the top items of the list with a planned countermeasure)")
    p.add_argument("--out", type=Path, default=None, help="outputs folder (default: the workspace's outputs/)")
    p.add_argument("--data", type=Path, default=None, help="where the weekly extracts go (default: the workspace's data/demo)")
    return parser


def _actions_parser(sub) -> None:
    """``soe actions list|record|update|export``: the decision log from the command line."""
    p = sub.add_parser("actions", help="the decision log: list, record, update, export")
    acts = p.add_subparsers(dest="verb", required=True)
    a = acts.add_parser("list", help="open actions (all with --all)")
    a.add_argument("--out", type=Path, default=None, help="outputs folder (its decision log; default: the workspace's)")
    a.add_argument("--week", default=None, help="only actions decided before this week (and due before it: overdue)")
    a.add_argument("--all", action="store_true", help="also done and cancelled ones")
    a = acts.add_parser("record", help="record a decision on an item of a published week's decision list")
    a.add_argument("--out", type=Path, default=None)
    a.add_argument("--week", required=True, help="the meeting week (its published decision list)")
    a.add_argument("--item", required=True, help="the item's id (decision_list.item_id)")
    a.add_argument("--action", default=None, help="a countermeasure type (expedite, transfer, ...: the item's planned option of that type) "
                                                 "or free text; default: the joint plan's move for the item")
    a.add_argument("--qty", type=float, default=None, help="units (default: the plan's)")
    a.add_argument("--owner", default="S&OE meeting")
    a.add_argument("--due", default=None, help="due week (default: the week after)")
    a.add_argument("--note", default="")
    a.add_argument("--by", default=os.environ.get("USER", ""))
    a = acts.add_parser("update", help="change an action's status")
    a.add_argument("action_id", type=int)
    a.add_argument("--status", required=True)
    a.add_argument("--note", default="")
    a.add_argument("--week", default=None, help="the meeting week it is changed in (default: the latest published week)")
    a.add_argument("--by", default=os.environ.get("USER", ""))
    a.add_argument("--out", type=Path, default=None)
    a = acts.add_parser("export", help="a week's minutes (minutes.md, minutes.csv), or every action as CSV on stdout")
    a.add_argument("--out", type=Path, default=None)
    a.add_argument("--week", default=None, help="the week whose minutes to write (default: every action as CSV)")


class _Console(logging.StreamHandler):
    """The run's lines on standard output: whatever ``sys.stdout`` is when a line is written (a caller that
    swaps it, as a test or a notebook does, is followed; a handler holding an old, closed stream is not)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _logging() -> None:
    logger = logging.getLogger("soe")
    if not any(isinstance(h, _Console) for h in logger.handlers):
        console = _Console()
        console.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(console)
    logger.setLevel(logging.INFO)


def _sample(args: argparse.Namespace) -> int:
    from .core.paths import sample_dir
    from .sample import write_sample

    out = args.out or sample_dir()
    if args.weeks > 1:
        from .io.decision_store import ActionLog
        from .sample import write_weeks

        actions = ActionLog(args.actions_db).frame() if args.actions_db else None
        folders = write_weeks(out, args.weeks, actions, args.format, skus=args.skus, locations=args.locations, seed=args.seed)
        print(f"sample company: {args.weeks} consecutive weeks {folders[0].name} .. {folders[-1].name} in {out}/<week>")
        return 0
    if args.parts > 1:
        from .sample import write_sample_parts

        if args.format != "parquet":
            print("soe sample: --parts writes Parquet parts; add --format parquet", file=sys.stderr)
            return 2
        planted = write_sample_parts(out, args.skus, args.locations, args.seed, args.parts)
        print(f"sample company: {args.skus} SKUs x {args.locations} locations in {args.parts} parts, run week {planted['run_week']}, in {out}")
        return 0
    planted = write_sample(out, args.skus, args.locations, args.seed, args.format)
    print(f"sample company: {args.skus} SKUs x {args.locations} locations, run week {planted['run_week']}, in {out}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .core.problems import ValidationError
    from .io.loading import load_data
    from .run.week import resolve_data_dir

    try:
        data = load_data(resolve_data_dir(args.data), week=args.week, strict=True, week_check="warning" if args.any_week else "error")
    except ValidationError as exc:
        print(exc.report.render(("error", "warning")), file=sys.stderr)
        print(f"INVALID: {exc.report.summary()}", file=sys.stderr)
        return 2
    shown = ("error", "warning", "info") if args.all else ("error", "warning")
    print(data.report.render(shown))
    print(f"OK: {data.report.summary()}; run week {data.week_label}; data {data.data_dir}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from .core.params import ParameterError
    from .run.parameters import parse_set
    from .run.runner import run_week

    try:
        overrides = parse_set(args.set)
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    engine = {"engine": args.engine, "scheduler": args.scheduler, "partitions": args.partitions}
    overrides.update({k: v for k, v in engine.items() if v is not None})
    return run_week(args.data, args.week, args.params, overrides, args.out, any_week=args.any_week).exit_code


def _actions(args: argparse.Namespace) -> int:
    from .app.decisions import export_minutes, item_state
    from .core.paths import outputs_dir
    from .io.archive import latest_week
    from .io.decision_store import STATUSES, ActionLog, ActionLogError, StaleUpdate, default_url, minutes_dir

    out = Path(args.out) if args.out else outputs_dir()
    try:
        log = ActionLog(default_url(out))
        if args.verb == "list":
            frame = log.frame() if args.all else log.open_actions(args.week)
            print(_action_list(frame) if len(frame) else "no actions")
            return 0
        if args.verb == "record":
            return _record(args, out, log, item_state)
        if args.verb == "update":
            if args.status not in STATUSES:
                print(f"error: status must be one of {', '.join(STATUSES)}", file=sys.stderr)
                return 2
            row = log.frame().set_index("id")
            if args.action_id not in row.index:
                print(f"error: no action {args.action_id}", file=sys.stderr)
                return 2
            log.update_status(args.action_id, int(row.loc[args.action_id, "version"]), args.status, args.note, args.by, args.week or latest_week(out) or "")
            print(f"action #{args.action_id} is now {args.status}")
            return 0
        if args.week:
            md, csv = export_minutes(log, args.week, minutes_dir(out, args.week))
            print(f"minutes written: {md} and {csv}")
        else:
            log.frame().to_csv(sys.stdout, index=False)
        return 0
    except (ActionLogError, StaleUpdate, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _action_list(frame) -> str:
    """The decision log as people read it: the item in words (``SKU 00123 at DC-2``), the lever without underscores,
    human headers; the item's id last, for whoever needs to look it up."""
    from .core.formats import headers
    from .core.items import item_words

    words = [item_words(k, s, loc, r) for k, s, loc, r in zip(frame["item_kind"].fillna(""), frame["sku"].fillna(""), frame["location"].fillna(""),
                                                               frame["resource"].fillna(""), strict=True)]
    from .core import label

    shown = frame.assign(item=words, action_type=frame["action_type"].map(label))
    cols = ["id", "week", "due_week", "status", "owner", "item", "action_type", "target", "action", "item_id"]
    return headers(shown[cols].rename(columns={"id": "#", "action": "what", "action_type": "lever", "week": "decided_week",
                                               "item_id": "item id"})).to_string(index=False)


def _record(args: argparse.Namespace, out: Path, log, item_state) -> int:
    """``soe actions record``: the item's state and the countermeasure's, taken from the published week."""
    import pandas as pd

    from .core.items import ACTION_TYPES, item_words
    from .core.weeks import parse_week, week_label

    tables = out / args.week / "tables"
    kind = args.action if args.action in ACTION_TYPES else None
    try:
        where, state, text = item_state(tables, args.item, kind)
    except (KeyError, FileNotFoundError) as exc:
        print(f"error: {exc}".replace("'", ""), file=sys.stderr)
        return 2
    if args.qty is not None:
        state["qty"] = args.qty
    action = text if (args.action is None or kind) else args.action
    if args.action and not kind:
        state["action_type"] = ""  # free text: the data cannot follow it
    due = args.due or week_label(parse_week(args.week) + pd.Timedelta(weeks=1))
    new_id = log.record(args.week, action, args.owner, due, args.note, args.by, item=state, **where)
    print(f"action #{new_id} recorded for {item_words(where['item_kind'], where['sku'], where['location'], where['resource'])}: {action} "
          f"(owner {args.owner}, due {due})")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .run.demo import run_demo

    return run_demo(main, args.weeks, args.out, args.data, args.top)


def _params(args: argparse.Namespace) -> int:
    from .run.parameters import PARAMETER_FILES, render_parameter_file, write_parameter_files

    if args.write:
        for path in write_parameter_files(args.write):
            print(f"wrote {path}")
    else:
        print("\n".join(render_parameter_file(name) for name in PARAMETER_FILES))
    return 0


def _runs(args: argparse.Namespace) -> int:
    from .io.archive import list_runs

    for run in list_runs(args.out):
        print(f"{run['week']}  {run['status']:<9}  {run.get('finished_at', '')}  {run['folder']}")
    return 0


def _print(text_of: str) -> int:
    if text_of == "contract":
        from .core.contract import contract_markdown as render
    else:
        from .core.outputs import outputs_markdown as render
    print(render())
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _logging()
    commands = {
        "sample": _sample, "validate": _validate, "run": _run, "params": _params, "runs": _runs,
        "review": lambda a: _serve_review(a), "lab": lambda a: serve_lab(a.port),
        "contract": lambda a: _print("contract"), "outputs": lambda a: _print("outputs"), "actions": _actions,
        "demo": _demo, "scenario": _scenario, "promise": _promise,
    }
    return commands[args.command](args)


def _published_week(out: Path | None, week: str) -> Path | None:
    """The folder of a published week (``latest``: the newest) in the outputs folder ``out``; None when there is none."""
    from .core.paths import outputs_dir
    from .io.archive import latest_week

    out = out or outputs_dir()
    week = latest_week(out) if week == "latest" else week
    folder = out / str(week)
    return folder if week is not None and (folder / "manifest.json").exists() else None


def _no_week(out: Path | None, week: str) -> int:
    from .core.paths import outputs_dir

    print(f"error: no published week {week} in {out or outputs_dir()} (`soe runs` lists them)", file=sys.stderr)
    return 2


def _scenario(a: argparse.Namespace) -> int:
    """``soe scenario run FILE --week WEEK``: the comparison printed and saved with the week; exit 2 with the reason
    when the week or the scenario cannot be used."""
    from .run import run_scenario_file

    folder = _published_week(a.out, a.week)
    if folder is None or not (folder / "inputs").is_dir():
        return _no_week(a.out, a.week)
    week = folder.name
    try:
        result = run_scenario_file(a.file, folder)
    except ValueError as exc:  # ScenarioError, a parameter or week the archive cannot give: said, never a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    currency = str(json.loads((folder / "parameters.json").read_text()).get("currency", "")) if (folder / "parameters.json").exists() else ""
    print(f"Scenario '{result.scenario.name}' against {week} (saved in {result.folder}):\n")
    print(result.text(currency))
    return 0


def _promise(a: argparse.Namespace) -> int:
    """``soe promise``: the earliest ATP and CTP weeks, and what an earlier week would take; exit 2 with the reason
    when it cannot be said."""
    from .core.weeks import week_label
    from .run import promise_order

    folder = _published_week(a.out, a.at)
    if folder is None:
        return _no_week(a.out, a.at)
    week = folder.name
    try:
        result = promise_order(folder, a.sku, a.location, a.qty, a.week, a.customer)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"As allocated in {week}:")
    print(result.text(week_label))
    return 0


def _serve_review(a: argparse.Namespace) -> int:
    if a.pdf:
        return _meeting_pdf(a)
    from .app.serve import serve_review

    return serve_review(a.out, a.port, a.ip, a.token, a.allowed_host, a.cull_after, a.max_sessions)


def _meeting_pdf(a: argparse.Namespace) -> int:
    """``soe review --pdf [WEEK]``: the meeting as one PDF; exit 2 with the reason when it cannot be made."""
    from .app import meeting_pdf
    from .core.paths import outputs_dir

    try:
        path = meeting_pdf(a.out or outputs_dir(), None if a.pdf == "latest" else a.pdf, a.to)
    except ValueError as exc:  # every refusal of meeting_pdf (no such week, no Chromium, it failed) says why
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"the meeting printed to {path}")
    return 0


def lab_notebooks() -> Path:
    """The notebooks an analyst edits: the checkout's ``notebooks/``, or (installed from a wheel) a copy
    of the packaged ones in the workspace's ``notebooks/``, made on first use and never overwritten."""
    from .core.paths import notebooks_dir, source_checkout, workspace

    if source_checkout() is not None:
        return notebooks_dir()
    target = workspace() / "notebooks"
    if not target.exists():
        shutil.copytree(notebooks_dir(), target, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    return target


def serve_lab(port: int) -> int:
    from .core.paths import workspace

    folder = lab_notebooks()
    env = {**os.environ, "SOE_HOME": str(workspace())}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}", f"--ServerApp.root_dir={folder}",
           "--KernelManager.transport=ipc"]  # the notebooks' kernels on Unix sockets, as in runs and the review
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    print(f"JupyterLab on {folder}; results of notebooks run by hand go to {workspace() / 'outputs' / 'lab'}", flush=True)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
