"""The ``soe`` command: a thin wrapper over the library (as papermill's CLI is over ``execute``).

Exit codes (for schedulers): 0 success; 1 a notebook failed (see ``outputs/failed-runs/``);
2 invalid input data, parameters or usage; 3 another run is in progress.

User data goes to the workspace (``$SOE_HOME``, the source checkout, or the current directory; see
:mod:`soe_lib.core.paths`) unless ``--out`` / ``--data`` say otherwise.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["build_parser", "main", "voila_command"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="soe", description="S&OE workbench: the weekly Sales & Operations Execution cycle")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample", help="generate the sample company (deterministic for a seed)")
    p.add_argument("--out", type=Path, default=None, help="folder to write the tables into (default: the workspace's data/sample)")
    p.add_argument("--skus", type=int, default=40)
    p.add_argument("--locations", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--format", choices=("csv", "parquet", "xlsx"), default="csv")

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

    p = sub.add_parser("review", help="serve the weekly review meeting app (Voila) on 127.0.0.1")
    p.add_argument("--out", type=Path, default=None, help="outputs folder to read")
    p.add_argument("--port", type=int, default=8866)

    p = sub.add_parser("lab", help="open JupyterLab on the weekly notebooks (127.0.0.1)")
    p.add_argument("--port", type=int, default=8888)

    sub.add_parser("contract", help="print the input data contract as markdown")
    sub.add_parser("outputs", help="print the output contract (every result table and column) as markdown")
    p = sub.add_parser("params", help="print the default run parameters as YAML (a starting point for --params)")
    p.add_argument("--write", type=Path, default=None, metavar="DIR", help="write the parameters/*.yaml files into DIR instead")
    p = sub.add_parser("runs", help="list the weekly runs in the outputs folder")
    p.add_argument("--out", type=Path, default=None)
    return parser


def _logging() -> None:
    logger = logging.getLogger("soe")
    if not any(getattr(h, "_soe_console", False) for h in logger.handlers):
        console = logging.StreamHandler(sys.stdout)
        console.setFormatter(logging.Formatter("%(message)s"))
        console._soe_console = True  # type: ignore[attr-defined]
        logger.addHandler(console)
    logger.setLevel(logging.INFO)


def _sample(args: argparse.Namespace) -> int:
    from .core.paths import sample_dir
    from .sample import write_sample

    out = args.out or sample_dir()
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
    from .run.parameters import ParameterError, parse_set
    from .run.runner import run_week

    try:
        overrides = parse_set(args.set)
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run_week(args.data, args.week, args.params, overrides, args.out, any_week=args.any_week).exit_code


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
        "review": lambda a: serve_review(a.out, a.port), "lab": lambda a: serve_lab(a.port),
        "contract": lambda a: _print("contract"), "outputs": lambda a: _print("outputs"),
    }
    return commands[args.command](args)


def voila_command(port: int) -> list[str]:
    """The Voila server for the review notebook only: localhost, code hidden, no tracebacks for viewers."""
    from .core.paths import REVIEW_NOTEBOOK, notebooks_dir

    return [
        sys.executable, "-m", "voila", str(notebooks_dir() / REVIEW_NOTEBOOK),
        "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", "--strip_sources=True",
        "--theme=light", "--show_tracebacks=False",
        # no preheated kernel: a page pre-rendered before a decision was recorded would show it stale
    ]


def serve_review(out: Path | None, port: int) -> int:
    from .core.paths import outputs_dir

    env = {**os.environ, "SOE_OUTPUTS": str(Path(out or outputs_dir()).resolve())}
    print(f"S&OE weekly review: http://127.0.0.1:{port}/  (Ctrl-C to stop)", flush=True)
    try:
        return subprocess.call(voila_command(port), env=env)
    except KeyboardInterrupt:
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
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}", f"--ServerApp.root_dir={folder}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    print(f"JupyterLab on {folder}; results of notebooks run by hand go to {workspace() / 'outputs' / 'lab'}", flush=True)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
