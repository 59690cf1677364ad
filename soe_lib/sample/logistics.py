"""The sample company's logistics: lanes, modes, ports and carriers on its inbound lines, a year of deliveries
already made (``receipts_history``), and a planted **port congestion**.

Each supplier ships on one lane; transfers travel by the company's own trucks; production has no lane. The
deliveries of the last 52 weeks are mostly on time (ocean lanes a week late now and then); those through the
congested port received in its last ``CONGESTION_WEEKS`` weeks came 2-4 weeks late, while the open lines on that
lane still carry on-time ETAs: the workbench should predict them late (``planted.json``: ``port_congestion``).
Drawn from their own random stream, so every other table of the company is what it was without them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CONGESTED_PORT", "CONGESTION_WEEKS", "SUPPLIER_LANES", "logistics_tables"]

# supplier -> (origin, destination port; blank: the receiving location itself, mode, carrier, transit weeks)
SUPPLIER_LANES = {
    "Nordic Supply AB": ("Gothenburg", "", "truck", "DB Schenker", 1),
    "Oceanic Imports": ("Shanghai", "Rotterdam", "ocean", "Maersk", 5),
    "Acme Components 007": ("Busan", "Hamburg", "ocean", "MSC", 6),
    "Delta & Sons, Ltd.": ("Chicago", "Frankfurt", "air", "DHL", 1),
}
CONGESTED_PORT = "Hamburg"
CONGESTION_WEEKS = 8
# the faster lanes a shipment not yet on its way could switch to (priced per kg, with a weekly limit)
AIR_LANES = (("Shanghai", "Frankfurt", "air", 1, 4.2, 3000.0), ("Busan", "Frankfurt", "air", 1, 4.6, 3000.0))
DELIVERIES_PER_WEEK = 3
HISTORY_WEEKS = 52


def _lane_columns(supply: pd.DataFrame, run_week: pd.Timestamp) -> pd.DataFrame:
    """Mode, origin, destination, carrier, ship week and status of every open line (from its supplier's lane)."""
    out = supply.copy()
    # each supplier's lane, one column at a time (a mapping of the supplier column: no loop over lines)
    origin, port, mode, carrier, transit = (out["supplier"].map({s: lane[i] for s, lane in SUPPLIER_LANES.items()}).fillna(0 if i == 4 else "")
                                            for i in range(5))
    transfer = out["kind"].eq("transfer")
    out["mode"] = np.where(transfer, "truck", mode)
    out["origin"] = origin
    out["destination"] = np.where(transfer | (port == ""), np.where(out["kind"].eq("production"), "", out["location"]), port)
    out["carrier"] = np.where(transfer, "Own fleet", carrier)
    planned = pd.to_datetime(out["week"])
    ship = planned - pd.to_timedelta(transit.astype(int) * 7, unit="D")
    shipped = (ship <= run_week) & (transit.astype(int) > 0)
    out["ship_week"] = np.where(shipped, ship.dt.strftime("%Y-%m-%d"), "")
    arriving = shipped & (planned <= run_week + pd.Timedelta(weeks=1)) & out["mode"].eq("ocean")
    out["status"] = np.select([arriving, shipped, out["kind"].eq("production")], ["at_port", "shipped", ""], "planned")
    return out


def _history(rng: np.random.Generator, supply: pd.DataFrame, run_week: pd.Timestamp) -> pd.DataFrame:
    """Deliveries of the last year on each supplier's lane, of the SKU-locations it supplies today."""
    rows = []
    for supplier, (origin, port, mode, carrier, transit) in SUPPLIER_LANES.items():
        mine = supply[supply["supplier"].eq(supplier) & supply["kind"].eq("purchase")]
        if mine.empty:
            continue
        n = HISTORY_WEEKS * DELIVERIES_PER_WEEK
        pick = rng.integers(0, len(mine), n)
        planned = run_week - pd.to_timedelta(rng.integers(1, HISTORY_WEEKS + 1, n) * 7, unit="D")
        late = 0.25 if mode == "ocean" else 0.08
        delay = (rng.random(n) < late).astype(int)
        if port == CONGESTED_PORT:  # received in the congestion's weeks: held 2-4 weeks at the port
            congested = planned + pd.to_timedelta(delay * 7, unit="D") >= run_week - pd.Timedelta(weeks=CONGESTION_WEEKS)
            delay = np.where(congested, rng.integers(2, 5, n), delay)
        receipt = planned + pd.to_timedelta(delay * 7, unit="D")
        keep = receipt < run_week  # a delivery made before the run week
        rows.append(pd.DataFrame({
            "order_id": [f"PO-H{len(rows)}{i:05d}" for i in range(n)], "sku": mine["sku"].to_numpy()[pick],
            "location": mine["location"].to_numpy()[pick], "supplier": supplier, "mode": mode, "origin": origin,
            "destination": port or mine["location"].to_numpy()[pick], "carrier": carrier,
            "planned_week": planned.strftime("%Y-%m-%d"), "ship_week": (planned - pd.Timedelta(weeks=transit)).strftime("%Y-%m-%d"),
            "receipt_week": receipt.strftime("%Y-%m-%d"), "qty": np.round(mine["qty"].to_numpy()[pick]).astype("int64"),
        })[keep])
    return pd.concat(rows, ignore_index=True).sort_values(["receipt_week", "order_id"], ignore_index=True)


def _lanes(locations: list[str]) -> pd.DataFrame:
    """The suppliers' lanes (a truck lane to each location), then the air lanes a shipment could switch to."""
    own = [(o, dest, m, t, 0.05 if m == "truck" else 0.02, np.nan, np.nan)
           for o, p, m, _, t in SUPPLIER_LANES.values() for dest in ([p] if p else locations)]
    air = [(o, p, m, t, np.nan, kg, cap) for o, p, m, t, kg, cap in AIR_LANES]
    return pd.DataFrame(own + air, columns=["origin", "destination", "mode", "transit_weeks", "cost_per_unit", "cost_per_kg", "weekly_capacity"])


def logistics_tables(
    supply: pd.DataFrame, products: pd.DataFrame, locations: pd.DataFrame, run_week: pd.Timestamp, seed: int,
) -> tuple[dict[str, pd.DataFrame], dict]:
    """The supply with its lanes, ``lanes``, ``receipts_history`` and products with ``unit_weight_kg``; and where
    the congestion was planted."""
    rng = np.random.default_rng([seed, 26])  # its own stream: the rest of the company is drawn as before
    weights = products.assign(unit_weight_kg=np.round(rng.uniform(0.2, 25.0, len(products)), 2))
    tables = {"supply": _lane_columns(supply, run_week), "lanes": _lanes(list(locations["location"])), "receipts_history": _history(rng, supply, run_week), "products": weights}
    supplier = next(s for s, lane in SUPPLIER_LANES.items() if lane[1] == CONGESTED_PORT)
    origin, port, mode = SUPPLIER_LANES[supplier][:3]
    planted = {"port": port, "lane": {"origin": origin, "destination": port, "mode": mode}, "supplier": supplier,
               "weeks": CONGESTION_WEEKS, "extra_weeks": [2, 4]}
    return tables, planted
