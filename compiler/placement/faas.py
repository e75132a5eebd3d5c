"""Mean response time of a serverless function with warm and cold starts.

The model of Mahmoudi & Khazaei (IEEE TCC 2020), as the PyPI package ``pacsltk`` computes it
(``get_sls_warm_count_dist(...)["avg_resp_time"]``): a birth-death chain over the number of
warm instances. With ``m`` warm instances an arrival finds them all busy with the Erlang-B
probability ``B(ρ, m)`` (ρ = λ·warm) and starts cold; the m-th instance is reclaimed after
``idle`` seconds without work, which sets the death rates. The mean response time is
``B·cold + (1−B)·warm`` averaged over the chain's stationary distribution.

This implementation follows the same state truncation (30 states, extended by 30 while cold
starts outpace reclamations, at most 1000) so that it agrees with ``pacsltk`` to rounding, and
caches results: the placement asks for the same (λ, warm, cold, idle) many times.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

MAX_CONCURRENCY = 1000
WINDOW = 30


@lru_cache(maxsize=65536)
def faas_response_time(arrival_rate: float, warm: float, cold: float, idle: float) -> float:
    """The mean response time; always between ``warm`` and ``cold`` for positive inputs.

    Degenerate inputs (which the schemas and ``placement.numbers`` refuse, but a caller may
    still pass) get the model's limits instead of a ZeroDivisionError: no traffic or no work
    (ρ = 0) never waits for a cold start; no keep-alive makes every request cold."""
    if not arrival_rate > 0 or not warm > 0:
        return warm
    rho = arrival_rate * warm
    if not rho > 0 or not cold > 0 or not idle > 0:
        return warm if not rho > 0 else max(warm, cold)
    cold_rate = 1.0 / cold

    # state 0: no warm instance, every request starts cold
    blocked = [arrival_rate]
    kills = [0.0]
    times = [cold]

    limit = min(WINDOW, MAX_CONCURRENCY)
    inverse_b = 1.0  # 1 / ErlangB, by the usual recurrence
    b_previous = 1.0
    kill_rate = 0.0
    m = 0
    while m < limit:
        m += 1
        inverse_b = 1.0 + inverse_b * (m / rho)
        b = 1.0 / inverse_b
        served_here = b_previous - b  # share of requests the m-th instance takes
        b_previous = b
        rate_here = arrival_rate * served_here
        p_kill = math.exp(-idle * rate_here) if rate_here > 0 else 1.0
        if p_kill > 0:
            requests_before_kill = 1.0 / p_kill
            horizon = idle + warm
            if rate_here > 0:
                mean_gap = (-horizon * math.exp(-rate_here * horizon)
                            + (1.0 - math.exp(-rate_here * horizon)) / rate_here)
            else:
                mean_gap = 0.0
            kill_rate += 1.0 / (idle + (requests_before_kill - 1.0) * mean_gap)
        response = b * cold + (1.0 - b) * warm
        if m == MAX_CONCURRENCY:
            response = warm
        blocked.append(b * arrival_rate)
        kills.append(kill_rate)
        times.append(response)
        if b * arrival_rate > kill_rate:
            limit = min(m + WINDOW, MAX_CONCURRENCY)

    n = len(times)
    generator = np.zeros((n, n))
    for i in range(n):
        out = 0.0
        if i > 0:
            generator[i, i - 1] = kills[i]
            out += kills[i]
        if i < n - 1:
            up = blocked[i] * cold_rate / (blocked[i] + cold_rate)
            generator[i, i + 1] = up
            out += up
        generator[i, i] = -out
    # stationary π: π·Q = 0 with Σπ = 1 (the first balance equation replaced by the sum)
    generator[:, 0] = 1.0
    rhs = np.zeros(n)
    rhs[0] = 1.0
    try:
        pi = np.linalg.solve(generator.T, rhs)
    except np.linalg.LinAlgError:  # a singular chain: only with rates at float's limits
        return max(warm, cold)
    pi[pi < 0] = 0.0
    result = float(np.dot(times, pi))
    # rounding at float's limits (a rate of 1e-300) must not leave the model's bounds
    return min(max(result, min(warm, cold)), max(warm, cold)) if math.isfinite(result) \
        else max(warm, cold)
