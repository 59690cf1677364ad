"""``soe promise``: when a new order can be promised, read from a published week's allocation
(:func:`soe_lib.allocation.promise`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..allocation import promise
from ..core.weeks import parse_week
from ..io.results import read_table

__all__ = ["promise_order"]


def promise_order(week_dir: str | Path, sku: str, location: str, qty: float, week: str | None = None, customer: str | None = None) -> Any:
    """The promise (:class:`soe_lib.allocation.promises.Promise`) of ``qty`` units of ``sku`` at ``location`` in the published week ``week_dir`` (``week``: the week
    asked for; ``customer``: who asks, whose tier says which lines may give). A ValueError says what cannot be."""
    folder = Path(week_dir)
    if not (folder / "tables" / "available_to_promise.parquet").exists():
        raise ValueError(f"{folder.name} has no allocation (a week run before order promising existed): run the week again")
    if not qty > 0:
        raise ValueError(f"the quantity must be more than 0, not {qty:g}")
    atp = read_table(folder / "tables", "available_to_promise", filters=[("sku", "==", str(sku)), ("location", "==", str(location))])
    if atp.empty:
        raise ValueError(f"no SKU {sku} at {location} in {folder.name}")
    lines = read_table(folder / "tables", "order_allocation", filters=[("sku", "==", str(sku)), ("location", "==", str(location))])
    tier = None
    if customer:
        customers = folder / "inputs" / "customers.parquet"
        known = pd.read_parquet(customers) if customers.exists() else pd.DataFrame(columns=["customer", "tier"])
        found = known[known["customer"].astype(str) == str(customer)]
        if found.empty:
            raise ValueError(f"customer {customer} is not in {folder.name}'s customers table")
        tier = int(found["tier"].iloc[0])
    asked = None
    if week:
        try:
            asked = parse_week(week)
        except ValueError:
            raise ValueError(f"--week must be an ISO week such as 2026-W50, not {week[:40]!r}") from None
    return promise(atp, lines, float(qty), asked, tier)
