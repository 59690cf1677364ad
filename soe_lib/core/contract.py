"""The input data contract: which tables a data folder holds, their columns and the rules they obey.

This module is the single source of truth: validation (:mod:`soe_lib.io.validation`) enforces it and
``soe contract`` prints it as the markdown table in ``docs/data-contract.md``.

Column kinds:

- ``code``: an identifier (sku, location, resource, family, order id). Always text: ``00123`` keeps its
  zeros and ``HIV 1/2, Kit`` its punctuation.
- ``text``: free text (description, region).
- ``number``: a finite real number no larger than :data:`MAX_NUMBER` in size (units and money alike:
  ``inf``, ``NaN`` and ``1e308`` are refused); ``min``/``min_exclusive`` give the lower bound (``>= 0`` or ``> 0``).
- ``week``: an ISO week (``2026-W48``) or any date, normalised to the Monday of its ISO week.

Key rules: a table's ``key`` must be unique, except for ``sum_duplicates`` tables (actuals, open orders),
which are transactional: several rows of one SKU-location-week (daily dates, several order lines) are
summed into one weekly figure, as an ERP extract expects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["MAX_NUMBER", "MODES", "SHIPMENT_STATUSES", "SUPPLY_KINDS", "TABLES", "Column", "Table", "contract_markdown"]

Kind = Literal["code", "text", "number", "week"]
SUPPLY_KINDS = ("production", "purchase", "transfer")
MODES = ("ocean", "air", "truck", "rail", "parcel")
SHIPMENT_STATUSES = ("planned", "shipped", "at_port", "delivered")
_FIRM_VALUES = ("yes", "no", "true", "false", "1", "0", "firm", "planned")
# No quantity, price or hour count of a real company reaches 10^12; beyond it a value is a broken
# export (and sums of such values overflow what the money columns can hold meaningfully).
MAX_NUMBER = 1e12


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = True  # the column must be present
    nullable: bool = False  # blank cells allowed
    min: float | None = None
    min_exclusive: bool = False
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    doc: str = ""

    @property
    def rule(self) -> str:
        """The human-readable rule, as it appears in the contract and in messages."""
        parts = [self.kind]
        if self.min is not None:
            parts.append(f"{'>' if self.min_exclusive else '>='} {self.min:g}")
        if self.max is not None:
            parts.append(f"<= {self.max:g}")
        if self.allowed:
            parts.append("one of " + "/".join(self.allowed))
        if not self.required:
            parts.append("optional")
        elif self.nullable:
            parts.append("blank allowed")
        return ", ".join(parts)


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    sum_duplicates: bool = False
    references: dict[str, str] = field(default_factory=dict)  # column -> referenced table
    doc: str = ""
    line_key: tuple[str, ...] = ()  # unique where its first column is given (a supply line with its order id)
    may_be_empty: bool = False  # a required table without rows is a state, not an error (nothing on order)


def _code(name: str, **kw) -> Column:
    return Column(name, "code", **kw)


def _qty(name: str = "qty", *, strict: bool = False, **kw) -> Column:
    return Column(name, "number", min=0, min_exclusive=strict, **kw)


_SL = {"sku": "products", "location": "locations"}

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "products",
            True,
            (
                _code("sku"),
                Column("description", "text", required=False, nullable=True),
                _code("family"),
                _qty("unit_price", strict=True, doc="selling price per unit"),
                _qty("unit_cost", doc="standard cost per unit"),
                _qty("backorder_share", required=False, nullable=True, max=1,
                     doc="share of its customers who wait when it is out of stock (blank: the location's, else the parameter)"),
                _qty("moq", required=False, nullable=True, doc="minimum order quantity of a new order (blank: none)"),
                _qty("order_multiple", strict=True, required=False, nullable=True, doc="orders come in multiples of this (blank: 1)"),
                _qty("lead_time_weeks", required=False, nullable=True, doc="weeks from ordering to receipt (blank: the catalogue's)"),
                _qty("unit_weight_kg", required=False, nullable=True, doc="for freight priced by weight (blank: not known)"),
            ),
            key=("sku",),
            doc="one row per item",
        ),
        Table(
            "locations",
            True,
            (
                _code("location"),
                Column("region", "text", required=False, nullable=True),
                _qty("storage_capacity", required=False, nullable=True, doc="units; blank = unlimited"),
                _qty("backorder_share", required=False, nullable=True, max=1,
                     doc="share of customers here who wait when an item is out of stock (blank: the parameter)"),
            ),
            key=("location",),
            doc="one row per stocking location (plant, DC, store)",
        ),
        Table(
            "actuals",
            True,
            (_code("sku"), _code("location"), Column("week", "week"), _qty()),
            key=("sku", "location", "week"),
            sum_duplicates=True,
            references=_SL,
            doc="weekly shipped/sold history; a missing week means zero demand",
        ),
        Table(
            "demand_plan",
            True,
            (_code("sku"), _code("location"), Column("week", "week"), _qty()),
            key=("sku", "location", "week"),
            references=_SL,
            doc="the S&OP consensus demand plan, past weeks and horizon",
        ),
        Table(
            "inventory",
            True,
            (_code("sku"), _code("location"), _qty("on_hand"), _qty("safety_stock")),
            key=("sku", "location"),
            references=_SL,
            doc="stock at the start of the run week",
        ),
        Table(
            "supply",
            True,
            (
                _code("sku"),
                _code("location"),
                Column("week", "week", doc="planned receipt week"),
                _qty(strict=True),
                Column("eta_week", "week", required=False, nullable=True, doc="current expected week"),
                _code("order_id", required=False, nullable=True),
                _code("supplier", required=False, nullable=True),
                Column("kind", "code", required=False, nullable=True, allowed=SUPPLY_KINDS),
                Column("firm", "code", required=False, nullable=True, allowed=_FIRM_VALUES,
                       doc="yes: a confirmed order (its quantity is fixed); no: a planned order that can be raised beyond the frozen fence; blank: yes"),
                Column("mode", "code", required=False, nullable=True, allowed=MODES, doc="how it travels (blank: not known)"),
                _code("origin", required=False, nullable=True, doc="port or site it leaves from; a lane is origin -> destination by mode"),
                _code("destination", required=False, nullable=True, doc="port or location it arrives at"),
                _code("carrier", required=False, nullable=True),
                Column("ship_week", "week", required=False, nullable=True, doc="week it left (blank: not shipped yet)"),
                Column("status", "code", required=False, nullable=True, allowed=SHIPMENT_STATUSES, doc="blank: planned"),
            ),
            references=_SL,
            doc="open inbound supply lines (production, purchase, transfer); a line with an order id is unique by order, SKU, location and week",
            line_key=("order_id", "sku", "location", "week"),
            may_be_empty=True,
        ),
        Table(
            "open_orders",
            False,
            (
                _code("sku"), _code("location"), Column("week", "week", doc="requested week"), _qty(),
                _code("order_id", required=False, nullable=True, doc="the order (with line: one row per order line)"),
                _code("line", required=False, nullable=True, doc="its line"),
                _code("customer", required=False, nullable=True, doc="who ordered it (the customers table says their tier and targets)"),
                _code("channel", required=False, nullable=True),
                Column("priority", "number", required=False, nullable=True, min=1, doc="1 = served first when supply is short (blank: the customer's tier)"),
                Column("promised_week", "week", required=False, nullable=True, doc="week promised to the customer (blank: the requested week)"),
                _qty("unit_price", required=False, nullable=True, doc="the line's own price (blank: the product's)"),
            ),
            key=("sku", "location", "week"),
            sum_duplicates=True,
            references=_SL,
            line_key=("order_id", "line"),
            doc="customer orders already booked (rows that differ only in qty are summed)",
        ),
        Table(
            "order_history",
            False,
            (
                _code("order_id", required=False, nullable=True),
                _code("line", required=False, nullable=True),
                _code("customer", required=False, nullable=True),
                _code("sku"),
                _code("location"),
                Column("requested_week", "week", doc="week the customer asked for"),
                _qty(doc="units ordered"),
                _qty("shipped_qty", required=False, nullable=True, doc="units shipped (blank: none)"),
                Column("shipped_week", "week", required=False, nullable=True, doc="week the last of them shipped (blank: not shipped)"),
            ),
            doc="order lines already due: what customers really got, for actual fill rate and OTIF (no table: projected service only)",
        ),
        Table(
            "customers",
            False,
            (
                _code("customer"),
                Column("tier", "number", min=1, doc="1 = served first when supply is short"),
                _code("channel", required=False, nullable=True),
                _qty("fill_rate_target", required=False, nullable=True, max=1, doc="share of units to ship on time"),
                _qty("otif_target", required=False, nullable=True, max=1, doc="share of lines to ship complete and on time"),
                _qty("backorder_share", required=False, nullable=True, max=1, doc="share of a cut that waits (the rest is lost)"),
                _qty("min_fill_rate", required=False, nullable=True, max=1, doc="contractual minimum share of each line served in its week"),
            ),
            key=("customer",),
            doc="customers: their tier when supply is short, service targets and contractual minimum (no table: every line tier 1)",
        ),
        Table(
            "stockouts",
            False,
            (_code("sku"), _code("location"), Column("week", "week", doc="a week the item was out of stock at the location")),
            key=("sku", "location", "week"),
            references=_SL,
            doc="weeks stock ran out: their actuals understate demand (censored), so sensing leaves them out (no table: none)",
        ),
        Table(
            "capacity",
            False,
            (_code("resource"), Column("week", "week"), _qty("available_hours")),
            key=("resource", "week"),
            doc="available hours per production resource and week",
        ),
        Table(
            "routings",
            False,
            (_code("sku"), _code("location"), _code("resource"), _qty("hours_per_unit", strict=True)),
            key=("sku", "location", "resource"),
            references=_SL,
            doc="which resource makes an item at a location, and how fast",
        ),
        Table(
            "substitutes",
            False,
            (
                _code("sku", doc="the item that may run short"),
                _code("substitute_sku", doc="an item the customer accepts in its place"),
                _code("location", required=False, nullable=True, doc="blank = at every location"),
                Column("ratio", "number", required=False, nullable=True, min=0, min_exclusive=True, doc="units of the substitute per unit; blank = 1"),
                Column("priority", "number", required=False, nullable=True, doc="lower is offered first; blank = 1"),
            ),
            key=("sku", "substitute_sku", "location"),
            references={"sku": "products", "substitute_sku": "products", "location": "locations"},
            doc="which item may be sold in place of another (no table: no substitution is offered)",
        ),
        Table(
            "lanes",
            False,
            (
                _code("origin"),
                _code("destination"),
                Column("mode", "code", allowed=MODES),
                _qty("transit_weeks"),
                _qty("cost_per_unit", required=False, nullable=True),
                _qty("cost_per_kg", required=False, nullable=True),
                _qty("weekly_capacity", required=False, nullable=True, doc="units a week (blank: unlimited)"),
            ),
            key=("origin", "destination", "mode"),
            doc="transport lanes: transit time, freight cost, capacity (no table: none known)",
        ),
        Table(
            "receipts_history",
            False,
            (
                _code("order_id", required=False, nullable=True),
                _code("sku"),
                _code("location"),
                _code("supplier", required=False, nullable=True),
                Column("mode", "code", required=False, nullable=True, allowed=MODES),
                _code("origin", required=False, nullable=True),
                _code("destination", required=False, nullable=True),
                _code("carrier", required=False, nullable=True),
                Column("planned_week", "week", doc="week it was due"),
                Column("ship_week", "week", required=False, nullable=True),
                Column("receipt_week", "week", doc="week it arrived"),
                _qty(),
            ),
            doc="deliveries already made: what lanes, carriers and suppliers really did (no table: stated ETAs only)",
        ),
        Table(
            "financial_plan",
            False,
            (
                _code("family"),
                Column("week", "week"),
                Column("revenue_plan", "number"),
                Column("margin_plan", "number", required=False, nullable=True),
            ),
            key=("family", "week"),
            doc="the financial plan by product family and week",
        ),
    )
}

def contract_markdown() -> str:
    """The contract as a markdown table (what ``soe contract`` prints)."""
    lines = ["| table | required | column | rule | meaning |", "|---|---|---|---|---|"]
    for t in TABLES.values():
        for i, c in enumerate(t.columns):
            head = (f"**{t.name}**", "yes" if t.required else "no") if i == 0 else ("", "")
            meaning = c.doc or ("unique" if t.key == (c.name,) else "")
            lines.append(f"| {head[0]} | {head[1]} | `{c.name}` | {c.rule} | {meaning} |")
    return "\n".join(lines)
