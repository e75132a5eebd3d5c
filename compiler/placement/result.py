"""What every solver returns: the placement, the evaluator's verdict on it, and the proof."""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler.placement.performance import Evaluation
from compiler.placement.system import Placement


@dataclass(frozen=True)
class SolveResult:
    """What a solver found. ``evaluation`` is always the evaluator's verdict on ``placement``."""

    placement: Placement | None
    evaluation: Evaluation | None
    status: str  # optimal | feasible | infeasible | unknown
    seconds: float
    gap: float | None = None  # relative, proven; None when no bound is known
    bound: float | None = None
    rounds: int = 0
    explanation: tuple[str, ...] = field(default=())
    method: str = "milp"

    @property
    def feasible(self) -> bool:
        return self.evaluation is not None and self.evaluation.feasible

    @property
    def cost(self) -> float | None:
        return self.evaluation.cost if self.feasible else None
