"""The closed loop (step 5): what changed since last week and why, whether last weeks' decisions worked, and
sensing's track record."""

from .params import LoopParams
from .step import LOOP

__all__ = [
    "LOOP",
    "LoopParams",
]
