"""The ``soe`` command: a thin wrapper over the library (as papermill's CLI is over ``execute``).

Exit codes (for schedulers): 0 success; 1 a notebook failed (see ``outputs/failed-runs/``);
2 invalid input data, parameters or usage; 3 another run is in progress.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="soe", description="S&OE workbench: the weekly Sales & Operations Execution cycle")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample", help="generate the sample company (deterministic for a seed)")
    p.add_argument("--out", required=True, type=Path, help="folder to write the tables into")
    p.add_argument("--skus", type=int, default=40)
    p.add_argument("--locations", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--format", choices=("csv", "parquet", "xlsx"), default="csv")

    p = sub.add_parser("validate", help="check a data folder against the data contract")
    p.add_argument("--data", type=Path, default=None, help="data folder (default: the sample company)")
    p.add_argument("--week", default=None, help="run week, e.g. 2026-W48 (default: after the last actuals)")
    p.add_argument("--all", action="store_true", help="also list info-level notes")

    p = sub.add_parser("run", help="run the weekly cycle (what cron calls)")
    p.add_argument("--data", type=Path, default=None, help="data folder (default: the sample company)")
    p.add_argument("--week", default=None, help="run week, e.g. 2026-W48 (default: after the last actuals)")
    p.add_argument("--params", type=Path, default=None, help="YAML file of parameter overrides")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override one parameter")
    p.add_argument("--out", type=Path, default=None, help="outputs folder (default: ./outputs of the project)")

    p = sub.add_parser("review", help="serve the weekly review meeting app (Voila) on 127.0.0.1")
    p.add_argument("--out", type=Path, default=None, help="outputs folder to read")
    p.add_argument("--port", type=int, default=8866)

    sub.add_parser("contract", help="print the input data contract as markdown")
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _logging()
    if args.command == "sample":
        from .sample import write_sample

        planted = write_sample(args.out, args.skus, args.locations, args.seed, args.format)
        print(f"sample company: {args.skus} SKUs x {args.locations} locations, run week {planted['run_week']}, in {args.out}")
        return 0
    if args.command == "validate":
        from .loading import load_data
        from .validation import ValidationError

        try:
            data = load_data(args.data, week=args.week, strict=True)
        except ValidationError as exc:
            print(exc.report.render(("error", "warning")), file=sys.stderr)
            print(f"INVALID: {exc.report.summary()}", file=sys.stderr)
            return 2
        shown = ("error", "warning", "info") if args.all else ("error", "warning")
        print(data.report.render(shown))
        print(f"OK: {data.report.summary()}; run week {data.week_label}; data {data.data_dir}")
        return 0
    if args.command == "run":
        from .params import ParameterError, parse_set
        from .runner import run_week

        try:
            overrides = parse_set(args.set)
        except ParameterError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return run_week(args.data, args.week, args.params, overrides, args.out).exit_code
    if args.command == "review":
        return serve_review(args.out, args.port)
    if args.command == "contract":
        from .contract import contract_markdown

        print(contract_markdown())
        return 0
    if args.command == "runs":
        from .runner import list_runs

        for run in list_runs(args.out):
            print(f"{run['week']}  {run['status']:<9}  {run.get('finished_at', '')}  {run['folder']}")
        return 0
    return 2


def voila_command(port: int) -> list[str]:
    """The Voila server for the review notebook only: localhost, code hidden, no tracebacks for viewers."""
    from .paths import NOTEBOOKS, REVIEW_NOTEBOOK

    return [
        sys.executable, "-m", "voila", str(NOTEBOOKS / REVIEW_NOTEBOOK),
        "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", "--strip_sources=True",
        "--theme=light", "--show_tracebacks=False",
        # no preheated kernel: a page pre-rendered before a decision was recorded would show it stale
    ]


def serve_review(out: Path | None, port: int) -> int:
    env = dict(os.environ)
    if out is not None:
        env["SOE_OUTPUTS"] = str(Path(out).resolve())
    print(f"S&OE weekly review: http://127.0.0.1:{port}/  (Ctrl-C to stop)", flush=True)
    try:
        return subprocess.call(voila_command(port), env=env)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
