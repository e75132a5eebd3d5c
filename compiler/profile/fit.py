"""Performance models from measured runs, the way aMLLibrary builds them for OSCAR-P.

Every candidate technique gets a seeded hyper-parameter search (grid search, k-fold
cross-validation on the training runs, scored by MAPE); the best configuration of each is then
judged on held-out runs, and the technique with the lowest hold-out MAPE wins (ties go to the
simpler technique, listed first). The winner is refitted on every run before it is saved.

Held-out runs: with two or more repetitions, the last repetition of every configuration (so
every configuration is both trained on and tested); with one, a seeded 20 % of the runs.

Features are those of ``compiler.load.learnt.features``: ``1/cores`` per instance and the
parallelism; the target is the mean wall time per request of a run.

numpy, scikit-learn, joblib and skl2onnx are imported by the functions that use them: together
they take seconds to import, and the CLI imports this module at start-up (``aisprint profile``
through ``compiler.profile.campaign``), so ``aisprint --help`` would pay for them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from compiler.load.learnt import FEATURES, features, predict_onnx
from compiler.write import write_atomically

HOLD_OUT_RATIO = 0.2
MAX_FOLDS = 5


@dataclass(frozen=True)
class TimingSample:
    """One run: cores per instance, instances side by side, repetition, mean seconds/request."""

    cores: float
    parallelism: int
    repetition: int
    runtime: float


@dataclass(frozen=True)
class Candidate:
    technique: str
    params: dict
    cv_mape: float | None
    holdout_mape: float | None


@dataclass(frozen=True)
class FittedModel:
    technique: str
    params: dict
    holdout_mape: float | None  # None when there were too few runs to hold any out
    candidates: tuple[Candidate, ...]
    estimator: object = field(repr=False, compare=False)
    n_runs: int = 0

    def predict(self, cores: float, parallelism: int = 1) -> float:
        # deferred: slow to import (see the module docstring)
        import numpy as np

        return float(self.estimator.predict(np.asarray([features(cores, parallelism)]))[0])


def techniques(seed: int) -> list[tuple[str, object, dict]]:
    """(name, estimator, grid), simplest first (ties go to the first)."""
    # deferred: slow to import (see the module docstring)
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    from sklearn.linear_model import Ridge
    from sklearn.tree import DecisionTreeRegressor

    return [
        ("LRRidge", Ridge(), {"alpha": [1e-6, 1e-3, 1e-1]}),
        ("DecisionTree", DecisionTreeRegressor(random_state=seed),
         {"max_depth": [1, 2, 3, None], "min_samples_leaf": [1, 2]}),
        ("RandomForest", RandomForestRegressor(random_state=seed, n_jobs=1),
         {"n_estimators": [20], "max_depth": [2, None]}),
        ("GradientBoosting", GradientBoostingRegressor(random_state=seed),
         {"n_estimators": [50], "learning_rate": [0.1, 0.3], "max_depth": [1, 2]}),
    ]


def mape(actual: Sequence[float], predicted: Sequence[float]) -> float:
    pairs = [(a, p) for a, p in zip(actual, predicted, strict=True) if a != 0]
    if not pairs:
        return 0.0
    return sum(abs(a - p) / abs(a) for a, p in pairs) / len(pairs)


def split(samples: Sequence[TimingSample], seed: int) -> tuple[list[int], list[int]]:
    """Indices of training and held-out runs (see the module docstring)."""
    # deferred: slow to import (see the module docstring)
    import numpy as np

    n = len(samples)
    if n < 3:
        return list(range(n)), []
    last: dict[tuple[float, int], int] = {}
    for i, s in enumerate(samples):
        key = (s.cores, s.parallelism)
        if key not in last or s.repetition > samples[last[key]].repetition:
            last[key] = i
    held = sorted(last.values())
    repeated = all(sum(1 for s in samples if (s.cores, s.parallelism) == k) > 1 for k in last)
    if not repeated:
        count = max(1, round(n * HOLD_OUT_RATIO))
        held = sorted(np.random.default_rng(seed).permutation(n)[:count].tolist())
    train = [i for i in range(n) if i not in set(held)]
    return train, held


def fit(samples: Sequence[TimingSample], *, seed: int = 1) -> FittedModel:
    """The best model of ``samples`` (at least one run)."""
    # deferred: slow to import (see the module docstring)
    import numpy as np
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, KFold

    if not samples:
        raise ValueError("no runs to fit")
    x = np.asarray([features(s.cores, s.parallelism) for s in samples], dtype=np.float64)
    y = np.asarray([s.runtime for s in samples], dtype=np.float64)
    train, held = split(samples, seed)
    candidates: list[tuple[Candidate, object]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny folds make some scorers and trees chatty
        for name, estimator, grid in techniques(seed):
            folds = min(MAX_FOLDS, len(train))
            cv_score = None
            if folds >= 2:
                search = GridSearchCV(
                    estimator, grid, cv=KFold(folds, shuffle=True, random_state=seed),
                    scoring="neg_mean_absolute_percentage_error", n_jobs=1, error_score=np.nan)
                search.fit(x[train], y[train])
                params = dict(search.best_params_)
                best = search.best_estimator_
                score = search.best_score_
                cv_score = None if score != score else float(-score)
            else:
                params = {}
                best = clone(estimator).fit(x[train], y[train])
            holdout = mape(y[held], best.predict(x[held])) if held else None
            candidates.append((Candidate(name, params, _round(cv_score), _round(holdout)),
                               clone(estimator).set_params(**params)))
    order = {name: i for i, (name, _, _) in enumerate(techniques(seed))}

    def rank(item):
        cand = item[0]
        score = cand.holdout_mape if cand.holdout_mape is not None else cand.cv_mape
        return (math.inf if score is None else round(score, 9), order[cand.technique])

    chosen, estimator = min(candidates, key=rank)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(x, y)
    return FittedModel(chosen.technique, chosen.params, chosen.holdout_mape,
                       tuple(c for c, _ in candidates), estimator, len(samples))


def _round(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.6g}")


def save(model: FittedModel, folder: Path) -> tuple[Path, Path | None, str]:
    """Write ``best.joblib`` and, when skl2onnx can convert it and ONNX Runtime agrees with
    scikit-learn, ``best.onnx``. Returns both paths and why the ONNX is missing, if it is."""
    # deferred: slow to import (see the module docstring)
    import joblib
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    regressor = folder / "best.joblib"
    joblib.dump(model.estimator, regressor)
    target = folder / "best.onnx"
    try:
        # deferred: slow to import (see the module docstring)
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType
    except ImportError:
        return regressor, None, "skl2onnx is not installed"
    try:
        onx = convert_sklearn(model.estimator, "performance_model",
                              [("features", FloatTensorType([None, len(FEATURES)]))])
    except Exception as exc:  # noqa: BLE001 - a converter gap, reported, never fatal
        return regressor, None, f"skl2onnx cannot convert {model.technique}: {exc}"
    write_atomically(target, onx.SerializeToString(), mode=0o644)  # read like its neighbours
    probe = [features(c, p) for c in (1, 2, 4, 8, 16) for p in (1, 2)]
    expected = model.estimator.predict(np.asarray(probe))
    got = predict_onnx(target, probe)
    if not np.allclose(got, expected, rtol=1e-3, atol=1e-6):
        target.unlink()
        return regressor, None, "the ONNX export disagrees with scikit-learn"
    return regressor, target, ""
