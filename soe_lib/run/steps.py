"""The weekly cycle's steps, in order: the one place that knows which step comes after which, and how a step is
computed for a run (whole in this process, or in parts on the run's Dask cluster).

Each step is declared in its own package on the step protocol (:mod:`soe_lib.core.step`): its notebook, the
parameter declarations and the tables of earlier steps it reads, the snapshot tables its kernel reads ahead, and
its computation, whole and in parts. Steps meet only through tables (declared in :mod:`soe_lib.core.outputs`):
a step's engine never imports another step's engine; this module puts them in sequence.
"""

from __future__ import annotations

from typing import Any

from ..allocation import ALLOCATION
from ..core.outputs import OUTPUTS
from ..core.params import EngineParams
from ..core.step import Step, StepContext
from ..finance import FINANCE
from ..health import HEALTH
from ..logistics import LOGISTICS
from ..loop import LOOP
from ..sensing import SENSING
from ..supply import SUPPLY

__all__ = ["STEPS", "compute_step", "producer_of", "step_named", "steps_of_notebook"]

STEPS: tuple[Step, ...] = (HEALTH, SENSING, LOGISTICS, SUPPLY, ALLOCATION, FINANCE, LOOP)  # logistics first: supply reads its eta_forecast


def compute_step(step: Step, ctx: StepContext) -> Any:
    """``step``'s result for the run ``ctx``: in parts on the run's Dask cluster when the run's engine is dask
    and the step has a partitioned form (:func:`soe_lib.run.distributed.on_cluster`), else whole here."""
    engine = ctx.group(EngineParams)
    if engine.engine == "dask" and step.partitioned:
        from .distributed import on_cluster

        return on_cluster(step, ctx, engine.scheduler, engine.partitions)
    return step.run(ctx)


def step_named(name: str) -> Step:
    for step in STEPS:
        if step.name == name:
            return step
    raise KeyError(f"no step '{name}'; the steps are {', '.join(s.name for s in STEPS)}")


def steps_of_notebook(notebook: str) -> list[Step]:
    """The steps notebook file ``notebook`` computes and shows, in order (none for a notebook of no step; the
    supply-gap notebook shows supply and logistics)."""
    return [s for s in STEPS if s.notebook == notebook]


def producer_of(table: str) -> Step:
    """The step that writes ``table``."""
    if table not in OUTPUTS:
        raise KeyError(f"'{table}' is not a declared result table")
    return step_named(OUTPUTS[table].step)
