"""The sample company's customers: tiers, channels, service targets, a key account with a contractual minimum, and
the booked orders split into their order lines; a planted shortage where fair share would cut the key account.

Each week's booked units of a SKU-location are split among the customers who order it that week (each orders it
with its own chance; at least one does), in shares drawn per line, whole units, the remainder to the first; an order
is one customer's lines of one week. At the planted SKU-location (the demand spike: its orders outrun its supply)
the key account orders in each of the first weeks, so that the configured rule (tier 1 first) serves it and fair
share would cut it (``planted.json``: ``key_account_cut``). Drawn from their own random stream: every other table of
the company is what it was without them, and the units booked per SKU-location and week are the same.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CUSTOMERS", "KEY_ACCOUNT", "customer_tables", "order_history", "split_orders"]

HISTORY_WEEKS = 13  # order lines already due that the extract keeps
LATE, SHORT = 0.08, 0.06  # of them: shipped a week late; shipped short (70 %) on time

KEY_ACCOUNT = "KEY-ACCOUNT Nordmarkt"
CUSTOMERS = pd.DataFrame({
    "customer": [KEY_ACCOUNT, "Baltica Retail Chain", "Vita Pharmacy Group", "Web Shop"],
    "tier": [1, 2, 2, 3],
    "channel": ["retail", "retail", "pharmacy", "e-commerce"],
    "fill_rate_target": [0.98, 0.95, 0.95, 0.9],
    "otif_target": [0.95, 0.9, 0.9, 0.85],
    "backorder_share": [0.8, 0.5, 0.5, 0.0],
    "min_fill_rate": [0.9, np.nan, np.nan, np.nan],
})
ORDERS_ITEM = np.array([0.45, 0.6, 0.5, 0.35])  # the chance each customer orders an item in a week
PLANTED_WEEKS = 2  # the key account orders the planted item in the first weeks


def split_orders(booked: pd.DataFrame, seed: int, key_item: tuple[str, str] | None = None, first_week: str | None = None) -> pd.DataFrame:
    """``booked`` (sku, location, week, qty: one row per SKU-location and week) as order lines: order_id, line,
    customer (module doc); the units per SKU-location and week unchanged."""
    rng = np.random.default_rng([seed, 27])
    n, c = len(booked), len(CUSTOMERS)
    orders = rng.random((n, c)) < ORDERS_ITEM[None, :]
    orders[~orders.any(axis=1), rng.integers(0, c, n)[~orders.any(axis=1)]] = True
    if key_item is not None:
        weeks = np.sort(booked["week"].astype(str).unique())[:PLANTED_WEEKS]
        planted = ((booked["sku"].astype(str) == key_item[0]) & (booked["location"].astype(str) == key_item[1])
                   & booked["week"].astype(str).isin(weeks)).to_numpy()
        orders[planted, 0] = True
    weight = np.where(orders, rng.uniform(0.5, 1.5, (n, c)), 0.0)
    qty = booked["qty"].to_numpy(dtype=float)
    share = np.floor(qty[:, None] * weight / weight.sum(axis=1, keepdims=True))
    first = orders.argmax(axis=1)
    share[np.arange(n), first] += qty - share.sum(axis=1)  # whole units: the remainder to the first customer
    r, k = np.nonzero(orders & (share > 0))
    lines = booked.iloc[r][["sku", "location", "week"]].reset_index(drop=True)
    lines["qty"] = share[r, k].astype("int64")
    lines["customer"] = CUSTOMERS["customer"].to_numpy()[k]
    # an order: one customer's lines of one week, a line per item: named from them, so a company written in parts
    # (each part its own SKUs) numbers them as the whole company does
    lines["order_id"] = "SO-" + lines["week"].astype(str).str.replace("-", "") + "-" + pd.Series(k + 1).astype(str).to_numpy()
    lines["line"] = lines["sku"].astype(str) + "@" + lines["location"].astype(str)
    return lines[["sku", "location", "week", "qty", "order_id", "line", "customer"]]


def customer_tables(booked: pd.DataFrame, seed: int, key_item: tuple[str, str]) -> tuple[dict[str, pd.DataFrame], dict]:
    """(``open_orders`` as order lines and the ``customers`` table, the planted ``key_account_cut``)."""
    lines = split_orders(booked, seed, key_item)
    weeks = sorted(booked["week"].astype(str).unique())[:PLANTED_WEEKS]
    planted = {"sku": key_item[0], "location": key_item[1], "customer": KEY_ACCOUNT, "weeks": [str(w) for w in weeks]}
    return {"open_orders": lines, "customers": CUSTOMERS.copy()}, planted


def order_history(actuals: pd.DataFrame, run_week: pd.Timestamp, seed: int) -> pd.DataFrame:
    """The order lines of the last weeks (what was sold, split among the customers as the booked orders are), each
    shipped in full and on time, a week late, or short on time (``LATE``, ``SHORT``): what actual service reads."""
    from ..core.weeks import parse_weeks, week_labels

    weeks = parse_weeks(actuals["week"])
    recent = actuals[(weeks >= run_week - pd.Timedelta(weeks=HISTORY_WEEKS)) & (weeks < run_week)].reset_index(drop=True)
    lines = split_orders(recent[recent["qty"] > 0], seed + 1)
    rng = np.random.default_rng([seed, 271])
    draw = rng.random(len(lines))
    late, short = draw < LATE, (draw >= LATE) & (draw < LATE + SHORT)
    due = parse_weeks(lines["week"])
    out = lines.rename(columns={"week": "requested_week"})
    out["shipped_qty"] = np.where(short, np.floor(out["qty"].to_numpy() * 0.7), out["qty"].to_numpy()).astype("int64")
    out["shipped_week"] = week_labels(due + pd.to_timedelta(np.where(late, 7, 0), unit="D")).to_numpy()
    return out[["order_id", "line", "customer", "sku", "location", "requested_week", "qty", "shipped_qty", "shipped_week"]]
