"""Order promising: the earliest week a new order can be promised from stock and receipts (ATP) and from capacity
(CTP), and what it would take from the lines already allocated if forced into an earlier week.

From the week's ``available_to_promise`` rows of the SKU-location: the ATP week is the first week whose cumulative
ATP covers the quantity (it stays covered: ATP only rises), the CTP week likewise with CTP. Forced into an earlier
week ``W``, the order needs ``qty - ATP[W]`` more; those units come from lines requested by ``W`` (their units are
in hand then) of a lower tier than the customer's (all lines without a customer), the lowest tier first, the latest
requested first: each such line and the units it would lose. When even all of them do not cover it, the promise says how many stay short.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["Promise", "promise"]


@dataclass
class Promise:
    sku: str
    location: str
    qty: float
    atp_week: pd.Timestamp | None  # None: not within the horizon
    ctp_week: pd.Timestamp | None
    asked_week: pd.Timestamp | None = None
    cuts: pd.DataFrame = field(default_factory=pd.DataFrame)  # lines it would take units from, forced into asked_week
    short_qty: float = 0.0  # what even those cuts leave short

    def text(self, label) -> str:
        """In words (``label``: a week's ISO label)."""
        when = lambda w: label(w) if w is not None else "not within the horizon"  # noqa: E731
        out = [f"{self.qty:,.0f} of SKU {self.sku} at {self.location}: from stock and receipts (ATP) {when(self.atp_week)}; "
               f"with spare capacity (CTP) {when(self.ctp_week)}."]
        if self.asked_week is not None and (self.atp_week is None or self.asked_week < self.atp_week):
            taken = self.cuts["take_qty"].sum() if len(self.cuts) else 0.0
            n = len(self.cuts)
            out.append(f"Forced into {label(self.asked_week)}: it would take {taken:,.0f} units from {n} line{'' if n == 1 else 's'} already allocated"
                       + (f", and {self.short_qty:,.0f} would still be short." if self.short_qty > 0 else "."))
            for r in self.cuts.itertuples():
                out.append(f"  - {r.customer} (tier {r.tier}), order {r.order_id} line {r.line}, {label(r.requested_week)}: -{r.take_qty:,.0f}")
        elif self.asked_week is not None:
            out.append(f"{label(self.asked_week)} can be promised without taking anything from another line.")
        return "\n".join(out)


def _first(rows: pd.DataFrame, column: str, qty: float) -> pd.Timestamp | None:
    covered = rows[rows[column] >= qty - 1e-9]
    return None if covered.empty else pd.Timestamp(covered["week"].min())


def promise(atp: pd.DataFrame, lines: pd.DataFrame, qty: float, week: pd.Timestamp | None = None, tier: int | None = None) -> Promise:
    """The promise of the module doc for ``qty`` units. ``atp``: the SKU-location's ``available_to_promise`` rows
    (week as ISO Mondays); ``lines``: its ``order_allocation`` rows; ``tier``: the ordering customer's (None: any
    line may give)."""
    rows = atp.sort_values("week")
    out = Promise(str(rows["sku"].iloc[0]) if len(rows) else "", str(rows["location"].iloc[0]) if len(rows) else "", float(qty),
                  _first(rows, "atp_qty", qty), _first(rows, "ctp_qty", qty), week)
    if week is None or (out.atp_week is not None and week >= out.atp_week):
        return out
    have = rows.loc[rows["week"] <= week, "atp_qty"]
    need = float(qty) - (float(have.iloc[-1]) if len(have) else 0.0)
    # units in hand by the asked week: those allocated to lines requested by then (a later line's may not have come yet)
    givers = lines[(lines["allocated_qty"] > 0) & (lines["requested_week"] <= week) & ((lines["tier"] > tier) if tier is not None else True)]
    givers = givers.sort_values(["tier", "requested_week", "line_id"], ascending=[False, False, False], kind="stable")
    before = givers["allocated_qty"].cumsum() - givers["allocated_qty"]
    take = (need - before).clip(lower=0).clip(upper=givers["allocated_qty"])
    out.cuts = givers.assign(take_qty=take)[take > 0][["customer", "tier", "order_id", "line", "requested_week", "allocated_qty", "take_qty"]]
    out.short_qty = max(need - float(take.sum()), 0.0)
    out.cuts = out.cuts.reset_index(drop=True)
    return out
