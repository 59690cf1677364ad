"""Logistics (lanes, modes, ports): what lanes really do, what they carry, the predicted receipt week of every open
line, and disruption scenarios that move the lines they touch."""

from .disruption import Scenario, read_scenario
from .params import LogisticsParams
from .step import LOGISTICS

__all__ = ["LOGISTICS", "LogisticsParams", "Scenario", "read_scenario"]
