"""Allocation: scarce supply shared among customers' order lines (tiers, fair share, contractual minima), service
per customer, three policies compared, and what can still be promised (ATP, CTP)."""

from .params import AllocationParams
from .promises import promise
from .step import ALLOCATION

__all__ = ["ALLOCATION", "AllocationParams", "promise"]
