"""Placement: where every component and partition runs, at what cost and how fast.

``system`` (the problem as values) · ``performance`` (the one evaluator) · ``faas`` ·
``result`` (what solvers return) ·
``milp`` (exact) · ``heuristics`` (anytime) · ``maxload`` (largest sustainable Λ) ·
``interop`` (SPACE4AI-D JSON solutions)."""
