"""Logistics (lanes, modes, ports): what lanes really do, and the predicted receipt week of every open line."""

from .params import LogisticsParams
from .step import LOGISTICS

__all__ = ["LOGISTICS", "LogisticsParams"]
