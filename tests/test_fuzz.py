"""The fuzzer (tests/fuzzer.py) in CI: a few hundred seeded hostile applications through the CLI.

Every case must end accepted (exit 0 everywhere, no canary in any output) or rejected (exit 1
with a located error, nothing written). ``python benchmarks/fuzz.py --cases 5000`` runs more.
"""

from __future__ import annotations

import collections

import pytest

from tests import fuzzer

CASES = 240  # ~3 minutes on a 2-core machine

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return fuzzer.fuzz(range(CASES), tmp_path_factory.mktemp("fuzz"))


def test_every_case_is_accepted_or_rejected_with_a_location(results):
    bad = [r for r in results if r.outcome not in ("accepted", "rejected")]
    report = "\n".join(f"seed {r.case.seed} ({r.case.example}) {r.outcome}: {r.applied}\n"
                       f"    {r.detail[:500]}" for r in bad[:15])
    assert not bad, f"{len(bad)} of {len(results)} cases failed the oracle:\n{report}"


def test_the_fuzzer_exercises_both_verdicts_and_every_mutation(results):
    """Not vacuous: valid mutants compile, hostile ones are refused, every operator ran."""
    outcomes = collections.Counter(r.outcome for r in results)
    assert outcomes["accepted"] >= CASES // 20 and outcomes["rejected"] >= CASES // 4, outcomes
    applied = {line.split(":")[0] for r in results for line in r.applied
               if "not applied" not in line}
    assert applied == set(fuzzer.MUTATIONS), set(fuzzer.MUTATIONS) - applied
    assert any(r.case.repo and r.steps.get("compile-repo") == 0 for r in results)


def test_the_oracle_catches_a_leak(tmp_path):
    """The canary scan is not blind: a canary planted in an output is reported."""
    (tmp_path / "out" / "aisprint").mkdir(parents=True)
    (tmp_path / "out" / "aisprint" / "x.yaml").write_text(f"key: {fuzzer.OUTSIDE_CANARY}\n")
    steps = {"compile": {"code": 0, "stdout": fuzzer.ENV_CANARY, "stderr": ""}}
    found = fuzzer.scan_for_canaries(tmp_path, tmp_path / "app", steps)
    assert any(fuzzer.OUTSIDE_CANARY in f for f in found)
    assert any(fuzzer.ENV_CANARY in f for f in found)


def test_the_oracle_catches_a_crash_and_a_missing_location(tmp_path):
    result = fuzzer.Result(fuzzer.Case(0, "mask_detection", (), False))
    fuzzer.judge(result, {"validate": {"code": 3, "stdout": "", "stderr": "internal error"}},
                 tmp_path, tmp_path / "app")
    assert result.outcome == "crash"
    result = fuzzer.Result(fuzzer.Case(0, "mask_detection", (), False))
    fuzzer.judge(result, {"compile": {"code": 1, "stdout": "error: something", "stderr": ""}},
                 tmp_path, tmp_path / "app")
    assert result.outcome == "no-location"
