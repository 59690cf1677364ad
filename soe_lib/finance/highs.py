"""A mixed-integer model solved with HiGHS (through ``scipy.optimize.milp``) the way the joint plan's
model needs it: by its independent parts.

The plan's model is thousands of small parts (a SKU-location and its moves) joined here and there by
a donor, a resource or a location's storage. HiGHS's branch and bound on the whole spends its time
proving the gap of one part while others wait (at 100k SKU-locations: 30 % from the best after 20 s),
so:

1. the model falls into its connected parts (variables linked through rows);
2. the linear relaxation is solved by batches of whole parts (1.0 s at 100k; 1.7 s whole): its value is a
   bound no plan can beat; a part whose relaxed solution is already whole-numbered is solved by it (optimal);
3. the other parts are searched as mixed-integer models, a few hundred variables at a time, the
   smallest first, each to ``gap`` with its share of the time left. A part larger than
   :data:`FIX_COLUMNS` (storage rows join thousands of variables) is first *fixed at zero*: the moves
   its relaxation does not use stay out, which keeps doing nothing possible (the part never ends worse
   than without moves) and takes its search from 14 s to 1.5 s at 100k. HiGHS returns its best plan
   when its time is up; a part it found none for does nothing (integer variables 0: always allowed),
   and so do the batches the time did not reach (as one model), and the status says so.

The proven gap is the plan's objective against the best bound: each searched batch's own bound, the
relaxation's for a batch fixed at zero or not reached.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__: list[str] = []  # the plan's machinery (soe_lib.finance.plan calls it)

BATCH_COLUMNS = 300
RELAX_COLUMNS = 10_000  # the relaxation is solved by batches of parts of about this many variables
FIX_COLUMNS = 2_000  # a part this large has its unused moves fixed at zero before the tree search


@dataclass
class Solution:
    x: np.ndarray | None  # None: no plan (infeasible or failed)
    objective: float
    bound: float  # no plan's objective can be below this (minimisation)
    status: str
    parts: int  # connected parts of the model
    searched: int  # parts that needed the tree search


def _highs(c, a: sparse.csc_matrix, lb, ub, rl, ru, integer, gap: float, seconds: float):
    """(x or None, objective, bound, status text) of one model, by HiGHS (through ``scipy.optimize.milp``)."""
    from scipy.optimize import Bounds, LinearConstraint, milp  # 0.5 s to import: only when there is something to plan

    integrality = np.zeros(a.shape[1]) if integer is None else np.asarray(integer, dtype=float)
    res = milp(np.asarray(c, dtype=float), integrality=integrality, bounds=Bounds(lb, ub), constraints=LinearConstraint(a, rl, ru),
               options={"time_limit": float(max(seconds, 0.05)), "disp": False, "mip_rel_gap": float(gap)})
    x = None if res.x is None else np.asarray(res.x)
    bound = getattr(res, "mip_dual_bound", None)
    objective = float(res.fun) if res.fun is not None else np.nan
    bound = float(bound) if bound is not None and np.isfinite(bound) and integrality.any() else objective
    status = "Optimal" if res.status == 0 else str(res.message)
    return x, objective, bound, status


def _parts(a: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Connected part of every row and every column (variables linked through rows)."""
    from scipy.sparse.csgraph import connected_components

    m, n = a.shape
    graph = sparse.bmat([[None, a], [a.T, None]]).tocsr()
    _, label = connected_components(graph, directed=False)
    return label[:m], label[m:]


def _nothing(c, a, lb, ub, rl, ru, integer):
    """The part doing nothing: its integer variables 0, its continuous ones re-solved."""
    lo = np.where(integer == 1, 0.0, lb)
    hi = np.where(integer == 1, 0.0, ub)
    y, obj, _, status = _highs(c, a, lo, hi, rl, ru, None, 0.0, 5.0)
    return y, obj, status


def _batches(parts: np.ndarray, sizes: np.ndarray, limit: int) -> list[list[int]]:
    """``parts`` (smallest first) in batches of at most ``limit`` columns (a larger part alone)."""
    batches, current, size = [], [], 0
    for p in parts[np.argsort(sizes[parts], kind="stable")]:
        if current and size + sizes[p] > limit:
            batches.append(current)
            current, size = [], 0
        current.append(int(p))
        size += sizes[p]
    if current:
        batches.append(current)
    return batches


@dataclass
class _Layout:
    """The model's connected parts: each part's columns and rows, for cutting sub-models."""

    col_part: np.ndarray
    sizes: np.ndarray
    order: np.ndarray
    starts: np.ndarray
    row_order: np.ndarray
    row_starts: np.ndarray

    @staticmethod
    def of(a: sparse.csr_matrix) -> _Layout:
        row_part, col_part = _parts(a)
        n_parts = int(col_part.max(initial=-1)) + 1
        order, row_order = np.argsort(col_part, kind="stable"), np.argsort(row_part, kind="stable")
        return _Layout(col_part, np.bincount(col_part, minlength=n_parts), order, np.searchsorted(col_part[order], np.arange(n_parts + 1)),
                       row_order, np.searchsorted(row_part[row_order], np.arange(n_parts + 1)))

    def cut(self, batch: list[int]) -> tuple[np.ndarray, np.ndarray]:
        cols = np.sort(np.concatenate([self.order[self.starts[p] : self.starts[p + 1]] for p in batch]))
        rows = np.sort(np.concatenate([self.row_order[self.row_starts[p] : self.row_starts[p + 1]] for p in batch]))
        return cols, rows


def _relax(c, a: sparse.csr_matrix, lb, ub, rl, ru, lay: _Layout, seconds: float) -> tuple[np.ndarray | None, str]:
    """The linear relaxation, solved by batches of whole parts (the model is block-diagonal: the parts' optima
    together are the whole's; 1.0 s instead of 1.7 s at 100k), each batch given the time left in proportion to
    its columns."""
    x = np.zeros(a.shape[1])
    t0, left_cols = time.perf_counter(), float(a.shape[1])
    for batch in _batches(np.arange(len(lay.sizes)), lay.sizes, RELAX_COLUMNS):
        cols, rows = lay.cut(batch)
        left = seconds - (time.perf_counter() - t0)
        share = max(left * len(cols) / left_cols, 0.05)
        y, _, _, status = _highs(c[cols], a[rows][:, cols].tocsc(), lb[cols], ub[cols], rl[rows], ru[rows], None, 0.0, share)
        if y is None:  # said in words (the plan's note shows it): HiGHS's own text names its status codes
            late = "time limit" in status.lower()
            return None, f"its linear relaxation did not finish within {seconds:g} s" if late else status
        x[cols] = y
        left_cols -= len(cols)
    return x, "Optimal"


def solve(c, a: sparse.csr_matrix, lb, ub, rl, ru, integer: np.ndarray, seconds: float, gap: float) -> Solution:
    """Minimise ``c x`` subject to ``rl <= a x <= ru``, ``lb <= x <= ub``, ``x[j]`` whole where
    ``integer[j]`` (see the module doc)."""
    t0 = time.perf_counter()
    a = a.tocsr()
    lay = _Layout.of(a)
    x, status = _relax(c, a, lb, ub, rl, ru, lay, seconds)
    n_parts, col_part, sizes = len(lay.sizes), lay.col_part, lay.sizes
    if x is None:
        return Solution(None, np.nan, np.nan, f"no plan: {status}", n_parts, 0)
    fractional = (integer == 1) & (np.abs(x - np.round(x)) > 1e-6)
    todo = np.unique(col_part[fractional])
    relaxed_of = np.bincount(col_part, weights=c * x, minlength=n_parts)
    x_relaxed = x.copy()
    x = np.where(integer == 1, np.round(x), x)
    bound = float(relaxed_of[np.setdiff1d(np.arange(n_parts), todo)].sum())  # whole parts: their relaxed value is their best
    batches = _batches(todo, sizes, BATCH_COLUMNS)
    timed_out = idle = False
    for k, batch in enumerate(batches):
        left = seconds - (time.perf_counter() - t0)
        if left <= 0.05:  # the batches the time did not reach do nothing, re-solved as one model
            batch = [p for rest in batches[k:] for p in rest]
        cols, rows = lay.cut(batch)
        sub = a[rows][:, cols].tocsc()
        share = left if k == len(batches) - 1 else max(left / (len(batches) - k), 0.05)
        # a large part is fixed at zero before its search (module doc); smaller parts are searched whole
        unused = (integer[cols] == 1) & (x_relaxed[cols] <= 1e-9) & (lb[cols] <= 0) & (len(cols) > FIX_COLUMNS)
        lo, hi = lb[cols], np.where(unused, 0.0, ub[cols])
        args = (c[cols], sub, lo, hi, rl[rows], ru[rows], integer[cols])
        y, obj, low, st = _highs(*args, gap, share) if left > 0.05 else (None, np.nan, np.nan, "time limit")
        if unused.any() or y is None:
            low = float(relaxed_of[batch].sum())  # fixing gives no bound: the relaxation's is the one proven
        if y is None:  # no plan found in its time: the part does nothing
            timed_out = idle = True
            y, obj, st = _nothing(c[cols], sub, lb[cols], ub[cols], rl[rows], ru[rows], integer[cols])
            if y is None:
                return Solution(None, np.nan, np.nan, f"no plan: {st}", n_parts, len(todo))
        elif st != "Optimal":
            timed_out = True
        x[cols] = np.where(integer[cols] == 1, np.round(y), y)
        bound += float(low)
        if left <= 0.05:
            break
    objective = float(c @ x)
    status = "solved" if not timed_out else "time limit: best plan found" + (" (some parts left as they are)" if idle else "")
    return Solution(x, objective, min(bound, objective), status, n_parts, len(todo))
