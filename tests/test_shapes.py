"""Companies of random shape (hypothesis): every one either runs through the cycle or is refused with exit 2 and a
message naming the file, column and rule; none ends in a traceback (exit 1).

The shapes are the ones real extracts take: optional tables present or absent, one series, nothing short, all
short, zero demand, a week or two of history, items new this week, nothing on order. Each example is validated by
`soe validate` and, when valid, run through every step in-process (the calls the notebooks make); a few named
shapes also go through `soe run` with its notebooks (slow tier).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soe_lib.cli import main
from soe_lib.core.problems import ValidationError
from soe_lib.run import open_week
from soe_lib.run.steps import STEPS

from .conftest import run_soe, write_tables
from .golden import contract_problems

OPTIONAL = ("open_orders", "stockouts", "capacity", "routings", "substitutes", "financial_plan", "receipts_history", "customers")


def _weeks(start: str, n: int) -> list[str]:
    first = pd.Timestamp(start)
    return [(first + pd.Timedelta(weeks=i)).strftime("%G-W%V") for i in range(n)]


def company(skus: int, locs: int, history: int, demand: str, stock: str, on_order: str, present: tuple | set = (),
            new_items: int = 0, seed: int = 0) -> dict[str, pd.DataFrame]:
    """A company of the given shape; ``history`` 0 gives no actuals at all (refused: a required table is empty),
    ``new_items`` series have actuals in the last week only."""
    rng = np.random.default_rng(seed)
    skus, locs = [f"S{i}" for i in range(skus)], [f"L{i}" for i in range(locs)]
    series = [(s, loc) for s in skus for loc in locs]
    weeks = _weeks("2026-05-04", history)
    horizon = _weeks("2026-05-04", history + 16)[history:] if history else _weeks("2026-09-07", 16)
    level = {"zero": 0.0, "flat": 20.0, "lumpy": 8.0}[demand]
    rows = []
    for i, (s, loc) in enumerate(series):
        own = weeks[-1:] if i < new_items else weeks
        qty = rng.poisson(level, len(own)) * (rng.random(len(own)) < 0.4) if demand == "lumpy" else np.full(len(own), level)
        rows += [(s, loc, w, float(q)) for w, q in zip(own, qty, strict=False)]
    actuals = pd.DataFrame(rows, columns=["sku", "location", "week", "qty"])
    plan = pd.DataFrame([(s, loc, w, level) for s, loc in series for w in weeks + horizon], columns=["sku", "location", "week", "qty"])
    on_hand = {"none": 0.0, "some": level * 2, "plenty": level * 40 + 100}[stock]
    tables = {
        "products": pd.DataFrame({"sku": skus, "family": "F", "unit_price": 10.0, "unit_cost": 6.0}),
        "locations": pd.DataFrame({"location": locs}),
        "actuals": actuals,
        "demand_plan": plan,
        "inventory": pd.DataFrame([(s, loc, on_hand, level) for s, loc in series], columns=["sku", "location", "on_hand", "safety_stock"]),
        "supply": pd.DataFrame(
            [(s, loc, horizon[2], horizon[3 + i % 2], level * 3 + 1, f"PO-{i}", "production" if i % 2 else "purchase") for i, (s, loc) in enumerate(series)]
            if on_order == "some" else [], columns=["sku", "location", "week", "eta_week", "qty", "order_id", "kind"]),
    }
    optional = {
        "open_orders": pd.DataFrame([(s, loc, horizon[0], level / 2) for s, loc in series], columns=["sku", "location", "week", "qty"]),
        "stockouts": pd.DataFrame([(s, loc, w) for s, loc in series[:1] for w in weeks[-2:]], columns=["sku", "location", "week"]),
        "capacity": pd.DataFrame([("R1", w, 40.0) for w in horizon], columns=["resource", "week", "available_hours"]),
        "routings": pd.DataFrame([(s, loc, "R1", 0.5) for s, loc in series], columns=["sku", "location", "resource", "hours_per_unit"]),
        "substitutes": pd.DataFrame([(a, b) for a, b in zip(skus, skus[1:], strict=False)], columns=["sku", "substitute_sku"]),
        "financial_plan": pd.DataFrame([("F", w, 100.0 * len(series)) for w in horizon], columns=["family", "week", "revenue_plan"]),
        # deliveries already made: one per series, a week late on one lane (a lane of one delivery leans on its mode)
        "receipts_history": pd.DataFrame([(s, loc, "SUP", "ocean", "A", "B", "2026-01-05", "2026-01-12", 5.0) for s, loc in series[: max(1, len(series) - 1)]],
                                         columns=["sku", "location", "supplier", "mode", "origin", "destination", "planned_week", "receipt_week", "qty"]),
        # two customers, the second with a contractual minimum; with open orders, their lines alternate between them
        "customers": pd.DataFrame({"customer": ["C1", "C2"], "tier": [1, 2], "min_fill_rate": [None, 0.5]}),
    }
    tables.update({name: optional[name] for name in present})
    if "customers" in tables and "open_orders" in tables:
        orders = tables["open_orders"]
        tables["open_orders"] = orders.assign(customer=np.where(np.arange(len(orders)) % 2, "C2", "C1"), order_id=[f"SO-{k}" for k in range(len(orders))])
    return tables


@st.composite
def companies(draw) -> dict[str, pd.DataFrame]:
    """A company drawn from the shapes above."""
    skus, locs = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    return company(skus, locs, history=draw(st.integers(0, 20)), demand=draw(st.sampled_from(["zero", "flat", "lumpy"])),
                   stock=draw(st.sampled_from(["none", "some", "plenty"])), on_order=draw(st.sampled_from(["empty", "some"])),
                   present=draw(st.sets(st.sampled_from(OPTIONAL))), new_items=draw(st.integers(0, skus * locs)), seed=draw(st.integers(0, 2**16)))


def _outcome(tables: dict[str, pd.DataFrame], root: Path, capsys) -> str:
    """"refused" (exit 2, a clear message) or "ran" (every step, every table as the contract declares)."""
    folder = write_tables(root / "data", tables)
    code = main(["validate", "--data", str(folder)])
    said = "".join(capsys.readouterr())
    assert code in (0, 2), said
    if code == 2:
        assert "ERROR " in said and ".csv" in said and "rule" in said, said
        with pytest.raises(ValidationError):
            open_week(str(folder), out_dir=root / "out")
        return "refused"
    run = open_week(str(folder), out_dir=root / "out")
    for step in STEPS:
        run.step(step.name)
    assert contract_problems(run.tables_dir) == []
    return "ran"


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(drawn=companies())
def test_a_company_of_any_shape_runs_or_is_refused_clearly(capsys, drawn):
    with tempfile.TemporaryDirectory() as root:
        outcome = _outcome(drawn, Path(root), capsys)
    assert outcome == ("refused" if drawn["actuals"].empty else "ran")


SHAPES = {
    # one series, no demand at all, nothing on order, no optional table: a week with nothing to show anywhere
    "one idle series": dict(skus=1, locs=1, history=6, demand="zero", stock="none", on_order="empty", present=()),
}


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_named_shapes_run_through_the_notebooks(shape, tmp_path):
    """The emptiest shape through `soe run` and its five notebooks: every display copes with nothing to show (all-short
    weeks go through the notebooks with the real companies and the sample)."""
    spec = SHAPES[shape]
    folder = write_tables(tmp_path / "data", company(**spec))
    res = run_soe("run", "--data", str(folder), "--out", str(tmp_path / "out"))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (week,) = [p for p in (tmp_path / "out").iterdir() if p.name[:2] == "20"]
    assert contract_problems(week / "tables") == []
