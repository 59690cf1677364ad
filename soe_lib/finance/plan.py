"""The week's joint countermeasure plan: one optimisation over all gaps and their shared limits.

Variables: ``x[o]`` units recovered by option ``o`` (``0 <= x[o] <= qty[o]``, the option's cap) and,
for options with a fixed cost, ``y[k]`` in {0, 1} (``k``: the order expedited or pulled in, or the
transfer shipped from a source to a SKU-location; an order, or a shipment, serving two gaps is paid once).

    maximise    sum_o (value[o] - cost_per_unit[o]) x[o]  -  sum_k fixed[k] y[k]
    subject to  sum_{o of gap g, effective at or after s} x[o] <= units newly short in g from week s on
                                                                   (every gap g, every week s an option of g takes effect)
                sum_{o drawing on pool p} use[o] x[o]          <= capacity of p
                                                                   (spare stock of a SKU-location, an order's quantity,
                                                                    a resource-week's extra or slack hours)
                x[o] <= qty[o] y[k(o)]                            (no units without paying the fixed cost)

The first family is the time phasing: units that arrive in week ``e`` only cover demand from ``e`` on,
and for a mix of options these suffix sums are exactly the condition under which every unit can be
given a week to cover. Options that cannot pay for themselves are left out before solving
(:func:`_model_rows`). Solved with HiGHS (``scipy.optimize.milp``) until the plan is proven within
``plan_gap`` of the best possible net benefit (0.1 %: at 100k SKU-locations, proving the last 0.05 %
takes minutes for nothing a meeting would notice) or ``plan_seconds`` have passed; then its best plan
so far is used (feasible by construction: ``x = 0`` is always allowed), and the proven gap is reported.
If the solver gives no plan, a greedy pass with the same accounting is used, options best net value
per unit first (:func:`greedy_plan`), and the summary says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from .countermeasures import World

__all__ = ["PlanResult", "apply_plan", "greedy_plan", "joint_plan"]

NO_UNITS = ("allocate", "accept")


@dataclass
class PlanResult:
    chosen: np.ndarray  # units per option row (0 for the rows not in the model)
    method: str
    status: str
    seconds: float
    variables: int
    binaries: int
    constraints: int
    objective: float
    gap: float = float("nan")  # proven: (best bound - plan) / plan; NaN when not proven (greedy)

    def summary(self) -> pd.DataFrame:
        """The ``countermeasure_plan`` table: how the plan was made."""
        gap = "not proven" if np.isnan(self.gap) else f"{self.gap:.3%}"
        # no seconds here: the tables of a run are reproducible (the solve time is in the notebook's note)
        rows = [("method", self.method), ("status", self.status), ("variables", str(self.variables)),
                ("binary variables", str(self.binaries)), ("constraints", str(self.constraints)), ("net benefit", f"{self.objective:,.2f}"),
                ("within of the best plan", gap)]
        return pd.DataFrame(rows, columns=["measure", "value"])


def _model_rows(options: pd.DataFrame) -> np.ndarray:
    """The options the model needs: those that recover units at a margin above their cost per unit, less
    those whose fixed cost (an order, a transfer) could not be paid back even if every option sharing it
    were taken in full: no optimal plan uses them, and leaving them out halves the yes/no variables."""
    unit = (options["value_per_unit"] - options["cost_per_unit"]).to_numpy()
    useful = options["feasible"].to_numpy() & (options["qty"].to_numpy() > 1e-9) & ~options["action"].isin(NO_UNITS).to_numpy() & (unit > 1e-12)
    key = options["fixed_key"].where(options["fixed_cost"] > 0, "")[useful]
    best = pd.Series(unit[useful] * options["qty"].to_numpy()[useful], index=key.index)
    payback = best.groupby(key).sum() - options.loc[key.index, "fixed_cost"].groupby(key).max()
    never = (key != "") & (key.map(payback) <= 0)
    rows = np.flatnonzero(useful)
    return rows[~never.to_numpy()]


def _coverage(m: pd.DataFrame, w: World) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Rows (gap, week s): the options of the gap effective at or after s; bound: units short from s on."""
    pos = pd.Index(w.gaps["gap_id"]).get_indexer(m["gap_id"].to_numpy())
    starts = pd.DataFrame({"g": pos, "s": m["eff"].to_numpy()}).drop_duplicates().reset_index(drop=True)
    pairs = starts.reset_index().merge(pd.DataFrame({"g": pos, "e": m["eff"].to_numpy(), "j": np.arange(len(m))}), on="g")
    pairs = pairs[pairs["e"] >= pairs["s"]]
    a = sparse.csr_matrix((np.ones(len(pairs)), (pairs["index"].to_numpy(), pairs["j"].to_numpy())), shape=(len(starts), len(m)))
    return a, w.suffix[starts["g"].to_numpy(), np.minimum(starts["s"].to_numpy(), w.suffix.shape[1] - 1)]


def _pools(m: pd.DataFrame) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Rows (pool): the options drawing on it, weighted by their use per unit; bound: its capacity."""
    drawn = m[m["pool"] != ""]
    codes, pools = pd.factorize(drawn["pool"])
    cap = drawn.groupby(codes)["pool_cap"].min().to_numpy()
    a = sparse.csr_matrix((drawn["pool_use"].to_numpy(), (codes, drawn.index.to_numpy())), shape=(len(pools), len(m)))
    return a, cap


def joint_plan(options: pd.DataFrame, w: World, seconds: float = 10.0, gap: float = 0.001) -> PlanResult:
    """Solve the model of the module doc (to within ``gap`` of the best net benefit, or ``seconds``);
    the greedy plan when the solver gives none."""
    from scipy.optimize import Bounds, LinearConstraint, milp  # 0.5 s to import: only when there is something to plan

    t0 = time.perf_counter()
    rows = _model_rows(options)
    m = options.iloc[rows].reset_index(drop=True)
    if m.empty:
        return PlanResult(np.zeros(len(options)), "nothing to plan", "no option recovers units", 0.0, 0, 0, 0, 0.0)
    keyed = m["fixed_key"].where(m["fixed_cost"] > 0, "")
    codes, keys = pd.factorize(keyed[keyed != ""])
    k = len(keys)
    fixed = m.loc[keyed != "", "fixed_cost"].groupby(codes).max().to_numpy() if k else np.zeros(0)
    n = len(m)
    cov, cov_ub = _coverage(m, w)
    pool, pool_ub = _pools(m)
    link_rows = np.flatnonzero(keyed.to_numpy() != "")
    link = sparse.csr_matrix(
        (np.concatenate([np.ones(len(link_rows)), -m["qty"].to_numpy()[link_rows]]),
         (np.concatenate([np.arange(len(link_rows))] * 2), np.concatenate([link_rows, n + codes]))),
        shape=(len(link_rows), n + k),
    )
    a = sparse.vstack([sparse.hstack([cov, sparse.csr_matrix((cov.shape[0], k))]), sparse.hstack([pool, sparse.csr_matrix((pool.shape[0], k))]), link]).tocsr()
    ub = np.concatenate([cov_ub, pool_ub, np.zeros(len(link_rows))])
    c = np.concatenate([-(m["value_per_unit"] - m["cost_per_unit"]).to_numpy(), fixed])
    res = milp(c, integrality=np.concatenate([np.zeros(n), np.ones(k)]), bounds=Bounds(np.zeros(n + k), np.concatenate([m["qty"].to_numpy(), np.ones(k)])),
               constraints=LinearConstraint(a, -np.inf, ub), options={"time_limit": seconds, "disp": False, "mip_rel_gap": gap})
    chosen = np.zeros(len(options))
    if res.x is None:
        greedy = greedy_plan(options, w)
        return PlanResult(greedy.chosen, "greedy (the solver gave no plan)", res.message, time.perf_counter() - t0, n, k, a.shape[0], greedy.objective)
    chosen[rows] = np.clip(res.x[:n], 0, None)
    proven = float(getattr(res, "mip_gap", np.nan) if k else 0.0)  # without yes/no variables it is a plain LP: exact
    status = "optimal" if res.status == 0 else f"time limit: best plan found ({res.message})"
    return PlanResult(chosen, "HiGHS mixed-integer (scipy.optimize.milp)", status, time.perf_counter() - t0, n, k, a.shape[0], float(-res.fun), proven)


def greedy_plan(options: pd.DataFrame, w: World) -> PlanResult:
    """The fallback: options by net value per unit (a fixed cost spread over the option's cap), each
    taking what the gap's weeks from its effective week, its pool and the earlier choices leave."""
    t0 = time.perf_counter()
    rows = _model_rows(options)
    m = options.iloc[rows]
    score = (m["value_per_unit"] - m["cost_per_unit"] - m["fixed_cost"] / m["qty"]).to_numpy()
    left = w.short.copy()
    pool_left: dict[str, float] = m.groupby("pool")["pool_cap"].min().to_dict()
    paid: set[str] = set()
    gap_pos = pd.Index(w.gaps["gap_id"]).get_indexer(m["gap_id"].to_numpy())
    chosen = np.zeros(len(options))
    objective = 0.0
    for i in np.argsort(-score, kind="stable"):  # one pass over the options (a fallback: the solver is the plan)
        o = m.iloc[i]
        g, e = gap_pos[i], int(o["eff"])
        x = min(o["qty"], left[g, e:].sum(), pool_left.get(o["pool"], np.inf) / o["pool_use"] if o["pool"] else np.inf)
        gain = (o["value_per_unit"] - o["cost_per_unit"]) * x - (o["fixed_cost"] if o["fixed_key"] and o["fixed_key"] not in paid else 0.0)
        if x <= 1e-9 or gain <= 0:
            continue
        paid.add(o["fixed_key"])
        take, rest = np.zeros(left.shape[1]), x
        for t in range(e, left.shape[1]):  # the earliest weeks first: later options can cover only later weeks
            take[t] = min(left[g, t], rest)
            rest -= take[t]
        left[g] -= take
        if o["pool"]:
            pool_left[o["pool"]] -= o["pool_use"] * x
        chosen[rows[i]] = x
        objective += gain
    return PlanResult(chosen, "greedy", "done", time.perf_counter() - t0, len(m), 0, 0, objective)


def apply_plan(options: pd.DataFrame, plan: PlanResult) -> pd.DataFrame:
    """``chosen_qty``, ``chosen_cost`` (its fixed cost once per order or transfer, on the option taking
    the most) and ``chosen_net_benefit`` of every option row."""
    out = options.copy()
    x = np.where(plan.chosen > 1e-6, plan.chosen, 0.0)
    out["chosen_qty"] = x
    used = out[(x > 0) & (out["fixed_key"] != "")]
    payer = used.sort_values("chosen_qty", ascending=False).drop_duplicates("fixed_key").index
    out["chosen_cost"] = out["cost_per_unit"] * x + np.where(out.index.isin(payer), out["fixed_cost"], 0.0)
    out["chosen_net_benefit"] = out["value_per_unit"] * x - out["chosen_cost"]
    return out
