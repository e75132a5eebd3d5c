import random

import pytest

from compiler.placement.faas import faas_response_time

pacsltk = pytest.importorskip("pacsltk.perfmodel")


def test_matches_pacsltk_on_the_published_example():
    # placement-model.md: λ=1.8, warm 1.265, cold 2.2125, keep-alive 600 s -> 1.26559
    expected = pacsltk.get_sls_warm_count_dist(1.8, 1.265, 2.2125, 600)[0]["avg_resp_time"]
    assert faas_response_time(1.8, 1.265, 2.2125, 600.0) == pytest.approx(expected, rel=1e-12)
    assert faas_response_time(1.8, 1.265, 2.2125, 600.0) == pytest.approx(1.26559, abs=1e-5)


def test_matches_pacsltk_over_random_inputs():
    rng = random.Random(7)
    for _ in range(150):
        rate = rng.choice([0.001, 0.01, 0.1, 1, 5, 30]) * rng.uniform(0.5, 2)
        warm = rng.uniform(0.05, 5)
        cold = warm * rng.uniform(1, 4)
        idle = rng.choice([1.0, 60.0, 600.0, 1200.0])
        expected = pacsltk.get_sls_warm_count_dist(rate, warm, cold, idle)[0]["avg_resp_time"]
        assert faas_response_time(rate, warm, cold, idle) == pytest.approx(expected, rel=1e-9)


def test_low_rates_mean_cold_starts_and_high_rates_warm_ones():
    assert faas_response_time(1e-4, 1.0, 3.0, 10.0) == pytest.approx(3.0, rel=1e-2)
    assert faas_response_time(50.0, 1.0, 3.0, 600.0) == pytest.approx(1.0, rel=1e-3)
