"""Performance models fitted on synthetic timings recover the relation that made them."""

import numpy as np
import pytest

from compiler.load.learnt import onnx_path, predict_onnx
from compiler.profile.fit import TimingSample, fit, mape, save, split


def amdahl(a=0.05, b=0.4, noise=0.02, cores=(1, 2, 4, 8), reps=3, seed=0):
    rng = np.random.default_rng(seed)
    return [TimingSample(c, 1, r, (a + b / c) * (1 + rng.normal(0, noise)))
            for c in cores for r in range(1, reps + 1)]


def test_recovers_a_plus_b_over_cores_and_exports_it(tmp_path):
    model = fit(amdahl(), seed=1)
    assert model.holdout_mape is not None and model.holdout_mape < 0.05
    assert {c.technique for c in model.candidates} == {
        "LRRidge", "DecisionTree", "RandomForest", "GradientBoosting"}
    chosen = next(c for c in model.candidates if c.technique == model.technique)
    assert chosen.holdout_mape == min(c.holdout_mape for c in model.candidates)
    for cores in (1, 2, 3, 8):  # 3 was never measured
        assert model.predict(cores) == pytest.approx(0.05 + 0.4 / cores, rel=0.04)
    regressor, onnx_file, why = save(model, tmp_path / "Models")
    assert regressor.is_file() and why == ""
    assert onnx_file == onnx_path(str(regressor))
    got = predict_onnx(onnx_file, [[1 / 3, 1.0]])[0]
    assert got == pytest.approx(model.predict(3), rel=1e-4)


def test_the_search_is_seeded():
    first, second = fit(amdahl(), seed=7), fit(amdahl(), seed=7)
    assert first.candidates == second.candidates and first.technique == second.technique


def test_hold_out_is_the_last_repetition_of_every_configuration():
    samples = amdahl(cores=(1, 2), reps=3)
    train, held = split(samples, seed=1)
    assert [samples[i].repetition for i in held] == [3, 3]
    assert sorted(train + held) == list(range(len(samples)))


def test_a_single_run_still_gives_a_model():
    model = fit([TimingSample(2, 1, 1, 0.3)])
    assert model.holdout_mape is None and model.predict(2) == pytest.approx(0.3)


def test_mape():
    assert mape([1.0, 2.0], [1.1, 1.8]) == pytest.approx(0.1)
