"""A mixed-integer model solved with HiGHS (through ``scipy.optimize.milp``) the way the joint plan's
model needs it: by its independent parts.

The plan's model is thousands of small parts (a SKU-location and its moves) joined here and there by
a donor, a resource or a location's storage. HiGHS's branch and bound on the whole spends its time
proving the gap of one part while others wait (at 100k SKU-locations: 30 % from the best after 20 s),
so:

1. the model falls into its connected parts (variables linked through rows);
2. the linear relaxation is solved by batches of whole parts (1.0 s at 100k; 1.7 s whole), in at most
   :data:`RELAX_SHARE` of the time: its value is a bound no plan can beat; a part whose relaxed solution is
   already whole-numbered is solved by it (optimal); a batch that does not finish in its share is left
   unsolved and the others go on; a part above :data:`LARGE_PART` variables that the relaxation's time cannot
   solve at :data:`LARGE_PART_RATE` is not tried (left unsolved from the start);
3. the other parts are searched as mixed-integer models, a few hundred variables at a time, the
   smallest first, each to ``gap`` with its share of the time left. A part larger than
   :data:`FIX_COLUMNS` (storage rows join thousands of variables) is first *fixed at zero*: the moves
   its relaxation does not use stay out, which keeps doing nothing possible (the part never ends worse
   than without moves) and takes its search from 14 s to 1.5 s at 100k. HiGHS returns its best plan
   when its time is up; the parts it found none for, and the batches the time did not reach, are marked
   ``unsolved``: the caller plans them otherwise (:func:`soe_lib.finance.plan.joint_plan`: greedily, which
   is never worse than doing nothing), and the status says so.

The proven gap is the plan's objective against the best bound: each searched batch's own bound, the
relaxation's for a batch fixed at zero or not reached; none when a part's relaxation did not finish.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__: list[str] = []  # the plan's machinery (soe_lib.finance.plan calls it)

BATCH_COLUMNS = 300
RELAX_COLUMNS = 10_000  # the relaxation is solved by batches of parts of about this many variables
RELAX_SHARE = 0.6  # of the plan's time, the relaxation's at most: the rest is the search's
FIX_COLUMNS = 2_000  # a part this large has its unused moves fixed at zero before the tree search
LARGE_PART = 100_000  # a part of more variables is relaxed only when the relaxation's time allows it:
LARGE_PART_RATE = 4_000  # variables per second such a part takes (242k storage-joined variables: 60 s at 1M)


@dataclass
class Solution:
    x: np.ndarray | None  # None: no plan (infeasible or failed)
    objective: float
    bound: float  # no plan's objective can be below this (minimisation)
    status: str
    parts: int  # connected parts of the model
    searched: int  # parts that needed the tree search
    unsolved: np.ndarray | None = None  # per column: its part got no plan in the time (the caller plans those otherwise)
    late: int = 0  # parts whose relaxation did not finish in its share of the time, or was not tried (no bound for them)


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


def _relax(c, a: sparse.csr_matrix, lb, ub, rl, ru, lay: _Layout, seconds: float) -> tuple[np.ndarray | None, str, np.ndarray]:
    """The linear relaxation, solved by batches of whole parts (the model is block-diagonal: the parts' optima
    together are the whole's; 1.0 s instead of 1.7 s at 100k), each batch given the time left in proportion to
    its columns: (x, status, per column: its batch did not finish in its time). A batch that does not finish
    leaves its parts to the caller and the others go on (at 1M one part of 242k variables, joined by the
    storage rows, needs 60 s alone: the 18k small parts beside it are solved in 3 s)."""
    x, late = np.zeros(a.shape[1]), np.zeros(a.shape[1], dtype=bool)
    # a part too large for the time is not tried (at 1M the storage part of 242k variables took 3.2 s of a 1.3 s share,
    # HiGHS's set-up before its clock, to give up): it is late from the start and the others share its time
    hopeless = lay.sizes > np.maximum(LARGE_PART, seconds * LARGE_PART_RATE)
    late[hopeless[lay.col_part]] = True
    t0, left_cols = time.perf_counter(), float(a.shape[1] - lay.sizes[hopeless].sum())
    for batch in _batches(np.flatnonzero(~hopeless), lay.sizes, RELAX_COLUMNS):
        cols, rows = lay.cut(batch)
        left = seconds - (time.perf_counter() - t0)
        share = max(left * len(cols) / left_cols, 0.05)
        left_cols -= len(cols)
        if left <= 0.05:
            late[cols] = True
            continue
        y, _, _, status = _highs(c[cols], a[rows][:, cols].tocsc(), lb[cols], ub[cols], rl[rows], ru[rows], None, 0.0, share)
        if y is None and "time limit" in status.lower():
            late[cols] = True
        elif y is None:  # said in words (the plan's note shows it): HiGHS's own text names its status codes
            return None, status, late
        else:
            x[cols] = y
    return x, "Optimal", late


def solve(c, a: sparse.csr_matrix, lb, ub, rl, ru, integer: np.ndarray, seconds: float, gap: float) -> Solution:
    """Minimise ``c x`` subject to ``rl <= a x <= ru``, ``lb <= x <= ub``, ``x[j]`` whole where
    ``integer[j]`` (see the module doc). The parts without a plan in the time are marked ``unsolved``
    (their ``x`` is 0 and not in the objective); the bound is NaN when a part's relaxation did not finish."""
    t0 = time.perf_counter()
    a = a.tocsr()
    lay = _Layout.of(a)
    x, status, late = _relax(c, a, lb, ub, rl, ru, lay, RELAX_SHARE * seconds)
    n_parts, col_part, sizes = len(lay.sizes), lay.col_part, lay.sizes
    if x is None:
        return Solution(None, np.nan, np.nan, f"no plan: {status}", n_parts, 0)
    late_parts = np.unique(col_part[late])
    fractional = (integer == 1) & (np.abs(x - np.round(x)) > 1e-6) & ~late
    todo = np.unique(col_part[fractional])
    relaxed_of = np.bincount(col_part, weights=c * x, minlength=n_parts)
    x_relaxed = x.copy()
    x = np.where(integer == 1, np.round(x), x)
    # whole parts: their relaxed value is their best; a part without a relaxation has no bound
    bound = np.nan if len(late_parts) else float(relaxed_of[np.setdiff1d(np.arange(n_parts), todo)].sum())
    unsolved, timed_out = late.copy(), len(late_parts) > 0
    batches = _batches(todo, sizes, BATCH_COLUMNS)
    for k, batch in enumerate(batches):
        cols, rows = lay.cut(batch)
        left = seconds - (time.perf_counter() - t0)
        bound += float(relaxed_of[batch].sum())  # replaced by the search's own bound below when it has one
        if left <= 0.05:  # the batches the time did not reach: planned by the caller
            unsolved[cols], timed_out = True, True
            continue
        sub = a[rows][:, cols].tocsc()
        share = left if k == len(batches) - 1 else max(left / (len(batches) - k), 0.05)
        # a large part is fixed at zero before its search (module doc); smaller parts are searched whole
        unused = (integer[cols] == 1) & (x_relaxed[cols] <= 1e-9) & (lb[cols] <= 0) & (len(cols) > FIX_COLUMNS)
        lo, hi = lb[cols], np.where(unused, 0.0, ub[cols])
        y, obj, low, st = _highs(c[cols], sub, lo, hi, rl[rows], ru[rows], integer[cols], gap, share)
        if y is None:  # no plan found in its time: planned by the caller
            unsolved[cols], timed_out = True, True
            continue
        if not unused.any():
            bound += float(low) - float(relaxed_of[batch].sum())  # the search's own bound (fixing gives none)
        timed_out |= st != "Optimal"
        x[cols] = np.where(integer[cols] == 1, np.round(y), y)
    x[unsolved] = 0.0
    objective = float(c @ x)
    status = "solved" if not timed_out else "time limit: best plan found"
    return Solution(x, objective, min(bound, objective) if np.isfinite(bound) else np.nan, status, n_parts, len(todo), unsolved, len(late_parts))
