"""`python -m benchmarks [--series N] [--quick]`: run the benchmarks and print (and save) the figures."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
from pathlib import Path

from . import allocation, cycle, logistics, plan, realdata, review, sensing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--series", type=int, default=100_000, help="SKU-locations for the scale run")
    parser.add_argument("--statsmodels-series", type=int, default=200, help="series the statsmodels loop fits")
    parser.add_argument("--statsforecast-series", type=int, default=2000, help="series statsforecast fits")
    parser.add_argument("--peers", default="statsmodels,statsforecast", help="comma-separated peers to measure")
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the benchmark runs, figures are not meaningful")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--only", choices=("cycle", "sensing", "realdata", "logistics", "allocation", "plan", "review", "sessions"), default=None, help="run one benchmark")
    parser.add_argument("--large", type=int, default=1_000_000, help="SKU-locations of the cycle's run on Dask from a company in parts (0: none)")
    parser.add_argument("--baseline", default=None, help="git commit whose finance step is timed on the same data (plan benchmark)")
    args = parser.parse_args(argv)
    if args.quick:
        args.series, args.statsmodels_series, args.statsforecast_series = 400, 8, 40
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = f"{dt.datetime.now():%Y%m%d-%H%M%S}"
    if args.only in (None, "cycle"):
        sizes = [300] if args.quick else [args.series // 10, args.series]
        # quick: one in-process run (the test tier checks the code runs; `soe run` on Dask from a company in parts is
        # tests/test_dask.py's)
        result = cycle.run(sizes, dask=not args.quick, large=0 if args.quick else args.large, parts=3 if args.quick else 20,
                           partitions=4 if args.quick else 40)
        (args.out / f"cycle-{stamp}.json").write_text(json.dumps(result, indent=2))
        print(f"saved {args.out / f'cycle-{stamp}.json'}")
    if args.only in (None, "allocation"):
        print("== allocation: Online Retail order lines, supply short, three policies ==", flush=True)
        result = allocation.run(quick=args.quick)
        (args.out / f"allocation-{stamp}.json").write_text(json.dumps(result, indent=2, default=float))
    if args.only in (None, "sensing"):
        print(f"== demand sensing benchmark ({platform.machine()}, python {platform.python_version()}) ==", flush=True)
        result = sensing.run(args.series, args.statsmodels_series, args.statsforecast_series, peers)
        (args.out / f"sensing-{stamp}.json").write_text(json.dumps(result, indent=2))
        print(f"saved {args.out / f'sensing-{stamp}.json'}")
    if args.only in (None, "realdata") and not args.quick:
        print("== sensing on real data (../shared/data/real): WAPE at 1-4 and 1-13 weeks, averaged over 3 run weeks ==", flush=True)
        result = realdata.run()
        (args.out / f"realdata-{stamp}.json").write_text(json.dumps(result, indent=2))
        print(f"saved {args.out / f'realdata-{stamp}.json'}")
    if args.only in (None, "logistics"):  # real deliveries, a second: the quick tier runs it too
        print("== predicted receipt weeks on real deliveries (USAID SCMS; targets: MAE >= 30 % below the scheduled week's, "
              "P90 covering 85-95 %) ==", flush=True)
        result = logistics.run()
        (args.out / f"logistics-{stamp}.json").write_text(json.dumps(result, indent=2))
        print(f"saved {args.out / f'logistics-{stamp}.json'}")
    if args.only in (None, "plan"):
        print("== joint countermeasure plan (target: solve <= 10 s at 100k; finance step vs --baseline) ==", flush=True)
        result = plan.run(args.series, args.baseline)
        (args.out / f"plan-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))
        print(f"saved {args.out / f'plan-{stamp}.json'}")
    if args.only in (None, "review"):
        print("== review app benchmark (targets: first complete render <= 2 s; interactions <= 300 ms at 100k) ==", flush=True)
        sizes = {"demo": (40, 3), "100k": (args.series // 4, 4)} if not args.quick else {"tiny": (8, 2)}
        rows = review.run(sizes)
        (args.out / f"review-{stamp}.json").write_text(json.dumps(rows, indent=2))
        print(f"saved {args.out / f'review-{stamp}.json'}")
    if args.only in (None, "review", "sessions"):  # the review benchmark includes its memory per session
        print("== review server: simultaneous sessions (memory per session; kernels left after the pages close) ==", flush=True)
        result = review.run_sessions(4 if args.quick else 20)
        (args.out / f"sessions-{stamp}.json").write_text(json.dumps(result, indent=2))
        print(f"saved {args.out / f'sessions-{stamp}.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
