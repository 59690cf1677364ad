"""Allocation on real order lines: the UCI Online Retail invoices as a week's booked orders, supply short, the three
policies compared, and the time to allocate 100k lines.

The invoice lines (``raw/onlineretail.rda``: 541,909 rows with InvoiceNo, StockCode, Quantity, InvoiceDate,
UnitPrice, CustomerID) become order lines: sales only (not a "C" invoice, quantity and price above 0, a customer, a
stock code of five digits), one line per invoice line, requested in its ISO week, at its own price. The 13 weeks
2011-W36..W48 are the horizon; the ``TOP`` SKUs by units sold in them are short: their supply reaches ``SHARE`` of
what is ordered, by week, cumulatively (``S[t] = SHARE x sum of orders through t``). Customers' tiers come from
their revenue in the 13 weeks before: the top 10 % tier 1 (with a contractual minimum of ``MINIMUM``), the next
30 % tier 2, the rest (and new customers) tier 3. No unit cost is published: margin = the line's price less
``COST_SHARE`` of the SKU's median price (stated; it orders lines, it is not an accounting figure).

Timing: the rule's allocation of the real lines repeated to 100k (each copy a SKU-location of its own), against a
floor measured in the same run: one stable sort of the same 100k lines by (series, week, tier), the least any
allocation by week and tier must do.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from soe_lib.allocation.engine import POLICIES, allocate, policy_tiers

RAW = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "uci-online-retail" / "onlineretail.rda"
WEEKS = pd.date_range(pd.Timestamp.fromisocalendar(2011, 36, 1), periods=13, freq="7D")
TOP, SHARE, MINIMUM, COST_SHARE = 50, 0.7, 0.5, 0.6
TIMED_LINES = 100_000


def invoice_lines(path: Path = RAW) -> pd.DataFrame:
    """Sales lines of the raw invoices (module doc): customer, sku, week (ISO Monday), qty, price."""
    import pyreadr  # reads the R data file (the raw lines are published only so)

    raw = pyreadr.read_r(path)["onlineretail"]
    sale = (~raw["InvoiceNo"].astype(str).str.startswith("C") & (raw["Quantity"] > 0) & (raw["UnitPrice"] > 0) & raw["CustomerID"].notna()
            & raw["StockCode"].astype(str).str.match(r"^\d{5}"))
    lines = raw[sale]
    day = pd.to_datetime(lines["InvoiceDate"])
    return pd.DataFrame({"customer": lines["CustomerID"].astype(int).astype(str).to_numpy(), "sku": lines["StockCode"].astype(str).to_numpy(),
                         "week": (day - pd.to_timedelta(day.dt.weekday, unit="D")).dt.normalize().to_numpy(),
                         "qty": lines["Quantity"].to_numpy(dtype=float), "price": lines["UnitPrice"].to_numpy(dtype=float)})


def prepare(lines: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """(the horizon's lines of the short SKUs with row, t, tier, margin, minimum; cumulative supply per SKU)."""
    before = lines[(lines["week"] >= WEEKS[0] - pd.Timedelta(weeks=13)) & (lines["week"] < WEEKS[0])]
    revenue = (before["qty"] * before["price"]).groupby(before["customer"]).sum().sort_values(ascending=False)
    rank = pd.Series(np.arange(len(revenue)) / max(len(revenue), 1), index=revenue.index)
    inside = lines[lines["week"].between(WEEKS[0], WEEKS[-1])]
    top = inside.groupby("sku")["qty"].sum().nlargest(TOP).index
    o = inside[inside["sku"].isin(top)].reset_index(drop=True)
    share = o["customer"].map(rank)
    o["tier"] = np.select([share < 0.1, share < 0.4], [1, 2], 3)
    o["min_fill"] = np.where(o["tier"] == 1, MINIMUM, 0.0)
    o["margin"] = o["price"] - COST_SHARE * o.groupby("sku")["price"].transform("median")
    o["row"] = pd.Index(top).get_indexer(o["sku"])
    o["t"] = ((o["week"] - WEEKS[0]).dt.days // 7).astype(np.int64)
    ordered = np.zeros((len(top), len(WEEKS)))
    np.add.at(ordered, (o["row"].to_numpy(), o["t"].to_numpy()), o["qty"].to_numpy())
    return o, np.floor(SHARE * np.cumsum(ordered, axis=1))


def compare(o: pd.DataFrame, supply: np.ndarray) -> pd.DataFrame:
    """The three policies on the same lines: fill rate per tier, spread of customers' cut %, margin kept."""
    rows = []
    for policy in POLICIES:
        a = allocate(supply, o["row"].to_numpy(), o["t"].to_numpy(), o["qty"].to_numpy(), policy_tiers(policy, o["tier"].to_numpy(), o["margin"].to_numpy()),
                     o["margin"].to_numpy(), o["min_fill"].to_numpy() if policy == "rule" else None)
        f = o.assign(alloc=a.allocated)
        by_customer = f.groupby("customer")[["qty", "alloc"]].sum()
        cut = 1 - by_customer["alloc"] / by_customer["qty"]
        row = {"policy": policy}
        for tier in (1, 2, 3):
            t = f[f["tier"] == tier]
            row[f"fill tier {tier} %"] = 100 * t["alloc"].sum() / t["qty"].sum()
        row["fill all %"] = 100 * f["alloc"].sum() / f["qty"].sum()
        row["cut % spread (P90-P10)"] = 100 * float(cut.quantile(0.9) - cut.quantile(0.1))
        row["margin kept GBP"] = float((f["alloc"] * f["margin"]).sum())
        row["tier-1 minimum missed (lines)"] = int(a.min_missed.sum())
        rows.append(row)
    return pd.DataFrame(rows)


def timed(o: pd.DataFrame, supply: np.ndarray, lines: int = TIMED_LINES) -> dict:
    """Seconds to allocate ``lines`` lines (the real ones repeated, each copy its own SKU-locations) and the floor."""
    copies = -(-lines // len(o))
    n = supply.shape[0]
    big = pd.concat([o.assign(row=o["row"] + k * n) for k in range(copies)], ignore_index=True).iloc[:lines]
    s = np.tile(supply, (copies, 1))
    args = (big["row"].to_numpy(), big["t"].to_numpy(), big["qty"].to_numpy(), big["tier"].to_numpy(), big["margin"].to_numpy(), big["min_fill"].to_numpy())
    t0 = time.perf_counter()
    np.lexsort((args[3], args[1], args[0]))
    floor = time.perf_counter() - t0
    t0 = time.perf_counter()
    allocate(s, *args)
    seconds = time.perf_counter() - t0
    return {"lines": len(big), "series": int(big["row"].nunique()), "seconds": seconds, "floor seconds": floor, "x floor": seconds / max(floor, 1e-9)}


def run(quick: bool = False) -> dict:
    if not RAW.exists():
        print(f"(no Online Retail invoice lines at {RAW}: skipped)")
        return {}
    o, supply = prepare(invoice_lines())
    table = compare(o, supply)
    timing = timed(o, supply, 5_000 if quick else TIMED_LINES)
    print(f"{len(o):,} order lines of {o['customer'].nunique():,} customers, {TOP} SKUs at {SHARE:.0%} of what is ordered, "
          f"{WEEKS[0]:%G-W%V}..{WEEKS[-1]:%G-W%V}")
    with pd.option_context("display.float_format", "{:,.1f}".format, "display.width", 200):
        print(table.to_string(index=False))
    print(f"allocate {timing['lines']:,} lines ({timing['series']:,} SKU-locations): {timing['seconds']:.2f} s "
          f"= {timing['x floor']:.0f} x one sort of them ({timing['floor seconds']:.3f} s)", flush=True)
    return {"policies": table.to_dict("records"), "timing": timing}
