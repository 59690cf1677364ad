"""Joint countermeasure plan benchmark: the HiGHS model against peers measured in the same run.

On the sample company at ``--series`` SKU-locations (the sensing and supply steps computed first, not
timed here), it reports:

- the option generation (every lever of every gap) and the model size (variables, yes/no variables,
  constraints) and solve time of the joint plan (HiGHS through ``scipy.optimize.milp``), with the gap
  it proved;
- peer 1, the greedy plan with the same limits, valued by the same kernel (:func:`soe_lib.finance.greedy_plan`):
  its time, and how much less net benefit it finds;
- peer 2, what the first release did: each gap's best option on its own. Its "plan" is not feasible:
  the benchmark counts how many pools (spare stock, orders, hours) it promises beyond what they hold;
- the whole finance step (money, options, plan, decision list, feedback, meeting pack).

With ``--baseline REF`` (a git commit, e.g. the one before issue 11), that commit's finance step is run
on the same data in a subprocess from a temporary git worktree, for the "at most as slow" comparison.
No timing is asserted anywhere: the figures are printed (and saved under ``benchmarks/results/``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from soe_lib.finance import FinanceParams, load_catalogue
from soe_lib.finance.countermeasures import generate_options
from soe_lib.finance.money import money_at_risk
from soe_lib.finance.parts import week_world
from soe_lib.finance.plan import greedy_plan, joint_plan
from soe_lib.finance.step import INPUT_TABLES
from soe_lib.run import open_week

from .sensing import make_data

ROOT = Path(__file__).resolve().parents[1]


def stand_alone_over_claims(options: pd.DataFrame) -> dict:
    """Each gap takes its best option alone (the first release): pools promised beyond their capacity."""
    best = options[options["feasible"] & (options["rank"] == 1) & (options["qty"] > 0) & (options["pool"] != "")]
    use = best.assign(use=best["qty"] * best["pool_use"]).groupby("pool").agg(use=("use", "sum"), cap=("pool_cap", "min"), gaps=("gap_id", "size"))
    over = use[use["use"] > use["cap"] + 1e-6]
    return {"pools_drawn": int(len(use)), "pools_over_claimed": int(len(over)), "units_promised_twice": round(float((over["use"] - over["cap"]).sum()), 1)}


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def plan_job(data_dir: str, out_dir: str) -> dict:
    """In-process: the upstream steps, then the finance step's parts, timed."""
    run = open_week(data_dir, out_dir=out_dir)
    run.step("sensing")
    run.step("supply")
    t = {name: run.table(name) for name in INPUT_TABLES}
    data, p = run.data, FinanceParams()
    projection = t["inventory_projection"]
    weeks = pd.DatetimeIndex(sorted(projection["week"].unique()))
    world = week_world(data, projection, p, weeks)
    impact = money_at_risk(t["supply_gaps"], data.products, world)
    world = world.with_gaps(impact)
    options, gen_s = _timed(generate_options, world, t["inbound_delays"], t["capacity_load"], data.routings, data.products, data.substitutes,
                            data.open_orders, load_catalogue(p.countermeasure_catalogue), p.frozen_fence_weeks)
    best = joint_plan(options, world, p.plan_seconds, p.plan_gap, t["storage_load"])
    greedy = greedy_plan(options, world, t["storage_load"])
    _, step_s = _timed(run.step, "finance")
    return {
        "series": int(projection[["sku", "location"]].drop_duplicates().shape[0]), "gaps": int(len(impact)), "options": int(len(options)),
        "feasible_options": int(options["feasible"].sum()), "options_seconds": round(gen_s, 2),
        "plan": {"status": best.status, "seconds": round(best.seconds, 2), "variables": best.variables, "binaries": best.binaries,
                 "constraints": best.constraints, "net_benefit": round(best.objective, 2), "reprojected": round(best.reprojected, 2),
                 "proven_gap": best.gap, "uncertain_series": int(len(world.spread.rows))},
        "greedy": {"seconds": round(greedy.seconds, 2), "net_benefit": round(greedy.objective, 2)},
        "stand_alone": stand_alone_over_claims(options),
        "finance_step_seconds": round(step_s, 2),
    }


def baseline_job(ref: str, data_dir: Path, out_dir: Path) -> float | None:
    """The finance step of commit ``ref`` on the same data (its own upstream steps first), in a subprocess."""
    with tempfile.TemporaryDirectory(prefix="soe-baseline-") as tmp:
        tree = Path(tmp) / "tree"
        made = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), ref], capture_output=True, text=True)
        if made.returncode:
            print(f"baseline {ref}: not measured ({made.stderr.strip()[:200]})")
            return None
        try:
            code = (
                "import json, time; from soe_lib.run import open_week\n"
                f"run = open_week({str(data_dir)!r}, out_dir={str(out_dir)!r}); run.step('sensing'); run.step('supply')\n"
                "t0 = time.perf_counter(); run.step('finance'); print(json.dumps(time.perf_counter() - t0))"
            )
            job = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tree, env={"PYTHONPATH": str(tree), "PATH": ""})
            if job.returncode:
                print(f"baseline {ref}: failed ({job.stderr.strip()[-300:]})")
                return None
            return float(job.stdout.strip().splitlines()[-1])
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)


def run(series: int, baseline: str | None = None, seed: int = 11) -> dict:
    with tempfile.TemporaryDirectory(prefix="soe-bench-plan-") as tmp:
        data_dir = make_data(Path(tmp) / "data", series, seed)
        code = f"import json; from benchmarks.plan import plan_job; print(json.dumps(plan_job({str(data_dir)!r}, {str(Path(tmp) / 'out')!r})))"
        job = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
        result = json.loads(job.stdout.strip().splitlines()[-1])
        if baseline:
            result["baseline"] = {"ref": baseline, "finance_step_seconds": baseline_job(baseline, data_dir, Path(tmp) / "out-baseline")}
    _print(result)
    return result


def _print(r: dict) -> None:
    p, g, s = r["plan"], r["greedy"], r["stand_alone"]
    print(f"{r['series']:,} SKU-locations, {r['gaps']:,} shortage gaps, {r['options']:,} option rows ({r['feasible_options']:,} feasible) "
          f"generated in {r['options_seconds']} s")
    gap = "not proven" if p["proven_gap"] is None or np.isnan(p["proven_gap"]) else f"{p['proven_gap']:.3%}"
    print(f"joint plan (HiGHS): {p['seconds']} s, {p['variables']:,} variables ({p['binaries']:,} yes/no), {p['constraints']:,} constraints; "
          f"{p['status']}, within {gap} of the best; net benefit {p['net_benefit']:,.0f}, re-projected through the kernel "
          f"{p['reprojected']:,.0f} ({p['uncertain_series']:,} SKU-locations valued over demand scenarios)")
    ratio = g["net_benefit"] / p["net_benefit"] if p["net_benefit"] else float("nan")
    print(f"peer greedy (same pools): {g['seconds']} s, net benefit {g['net_benefit']:,.0f} = {ratio:.3f} x the joint plan's; "
          f"solve-time ratio HiGHS/greedy {p['seconds'] / max(g['seconds'], 1e-9):.1f}")
    print(f"peer stand-alone best option per gap (first release): {s['pools_over_claimed']:,} of {s['pools_drawn']:,} pools promised beyond "
          f"what they hold ({s['units_promised_twice']:,.0f} units promised twice)")
    line = f"finance step (money, options, plan, decisions, feedback, meeting pack): {r['finance_step_seconds']} s"
    base = r.get("baseline", {}).get("finance_step_seconds")
    if base:
        line += f"; baseline {r['baseline']['ref']}: {base:.2f} s (ratio {r['finance_step_seconds'] / base:.2f})"
    print(line, flush=True)
