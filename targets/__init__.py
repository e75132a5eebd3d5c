"""Emitters: one module per deployment target, each satisfying ``Emitter``, registered in
``EMITTERS``. Emitters import only the model and placement results, and are pure: the same
inputs give the same bytes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class Emitter(Protocol):
    name: str

    def emit(self, application, placement) -> Mapping[str, bytes]:
        """Relative path -> file content."""
        ...


EMITTERS: dict[str, Emitter] = {}
