"""Performance models corrected by what was measured at run time.

AMS compares a component's measured time per request with its QoS limit directly, as the
placement compares the model's predicted response time with it; so a component measured slower
than predicted on the running placement has all its demands (``demand``, and the FaaS
``demand_warm``/``demand_cold``) scaled by measured / predicted. A queue's response time grows
faster than its demand, so where queueing dominates the corrected model predicts more than was
measured: the correction errs on the side of meeting the limit.

Models are only corrected upwards: a component faster than predicted keeps its model (a quiet
window says little about the worst case the placement must meet).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from compiler.placement.performance import DEFAULT, Conventions, evaluate
from compiler.placement.system import Placement, System


def scaled(system: System, component: str, factor: float) -> System:
    """``system`` with every demand of ``component`` multiplied by ``factor``."""
    options = dict(system.options)
    for key, choices in options.items():
        if key[0] == component:
            options[key] = tuple(replace(o, demand=o.demand * factor,
                                         demand_warm=o.demand_warm * factor,
                                         demand_cold=o.demand_cold * factor) for o in choices)
    return replace(system, options=MappingProxyType(options))


def calibrated(system: System, running: Placement, measured: Mapping[str, float],
               conventions: Conventions = DEFAULT) -> tuple[System, dict[str, float]]:
    """``system`` with the demands of every component measured slower than predicted on
    ``running`` scaled by measured / predicted, and the factor applied per component."""
    predicted = evaluate(system, running, conventions).component_times
    factors = {}
    for component in sorted(measured):
        model = predicted.get(component)
        if model and math.isfinite(model) and measured[component] > model:
            factors[component] = measured[component] / model
            system = scaled(system, component, factors[component])
    return system, factors
