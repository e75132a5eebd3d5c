"""Run-time side of the AI-SPRINT annotations.

The compiler reads the decorators' arguments from the source with ``ast``; when a component
runs, they do almost nothing. Only ``exec_time`` (and ``annotation`` when it holds exec_time)
acts: it times ``main`` and reports the execution time through ``aisprint.monitoring``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def _marker(**_kwargs: Any) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        return fn

    return decorate


def component_name(name: str) -> Callable[[F], F]:
    """Name of the component in the application DAG."""

    def decorate(fn: F) -> F:
        fn.__aisprint_component__ = name  # type: ignore[attr-defined]
        return fn

    return decorate


def _input_of(args: tuple, kwargs: dict) -> str | None:
    """The input file of a ``main({"input": …, "output": …})`` call (it names the session)."""
    request = args[0] if args else kwargs.get("args")
    if isinstance(request, dict) and request.get("input"):
        return str(request["input"])
    return None


def exec_time(local_time_thr: float | None = None, global_time_thr: float | None = None,
              prev_components: list[str] | None = None) -> Callable[[F], F]:
    """Response-time constraints (seconds); at run time, measures and reports main()."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            from aisprint.monitoring import report_execution_time

            start = time.time()
            try:
                return fn(*args, **kwargs)
            finally:
                # @component_name usually sits above and tags this wrapper, not fn
                name = getattr(timed, "__aisprint_component__",
                               getattr(fn, "__aisprint_component__", fn.__module__))
                report_execution_time(name, start, time.time(),
                                      input_path=_input_of(args, kwargs))

        return timed  # type: ignore[return-value]

    return decorate


def annotation(values: dict[str, dict[str, Any]]) -> Callable[[F], F]:
    """All annotations in one dictionary: ``@annotation({'exec_time': {...}, ...})``."""

    def decorate(fn: F) -> F:
        name = values.get("component_name", {}).get("name")
        if name:
            fn = component_name(name)(fn)
        if "exec_time" in values:
            fn = exec_time(**values["exec_time"])(fn)
        return fn

    return decorate


# Annotations that only guide the design tools.
expected_throughput = _marker
partitionable_model = _marker
early_exits_model = _marker
model_performance = _marker
device_constraints = _marker
detect_metric_drift = _marker
security = _marker
