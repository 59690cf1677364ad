"""Demand sensing (step 2): plan accuracy, the sensed forecast and its backtest, demand exceptions."""

from .deep_dive import deep_dive
from .params import ExceptionParams, SensingParams
from .step import SENSING

__all__ = [
    "deep_dive",
    "ExceptionParams",
    "SENSING",
    "SensingParams",
]
