"""Triggers of the reconciler: lasting violations, loads out of band, hysteresis, cooldown."""

from __future__ import annotations

import json

from compiler.runtime.metrics import QoSPath
from compiler.runtime.triggers import Memory, Policy, Sample, assess, changed

POLICY = Policy(window=10, band=0.2, margin=0.1, cooldown=30)
PATH = QoSPath("L2/global_constraint_1", ("blurry-faces-onnx", "mask-detector"), 2.0)


def run(samples, planned=1.0, memory=Memory()):
    fired_at = []
    for sample in samples:
        fired, memory = assess(POLICY, (PATH,), planned, sample, memory)
        fired_at.append([t.kind for t in fired])
    return fired_at, memory


def test_a_violation_fires_only_once_it_lasted_the_window():
    fired, _ = run([Sample(t, {PATH.id: 2.5}) for t in (0, 5, 9, 10, 11)])
    assert fired == [[], [], [], ["qos"], ["qos"]]


def test_a_short_spike_does_not_fire_and_a_dip_just_under_the_limit_does_not_reset():
    spike, _ = run([Sample(0, {PATH.id: 3}), Sample(5, {PATH.id: 1}),
                    Sample(12, {PATH.id: 3}), Sample(20, {PATH.id: 3})])
    assert spike == [[], [], [], []]  # the clock restarted at 12 s
    hovering, _ = run([Sample(0, {PATH.id: 3}), Sample(5, {PATH.id: 1.9}),
                       Sample(10, {PATH.id: 2.1})])
    assert hovering == [[], [], ["qos"]]  # 1.9 s is not under (1 - margin) x 2 s


def test_the_message_says_what_was_measured_against_which_limit():
    memory = Memory()
    for t in (0, 10):
        fired, memory = assess(POLICY, (PATH,), 1.0, Sample(t, {PATH.id: 2.5}), memory)
    (trigger,) = fired
    assert trigger.message == ("path blurry-faces-onnx → mask-detector over its limit: 2.5 s "
                               "measured for 10 s (limit 2 s)")


def test_a_load_outside_its_band_fires_after_the_window_in_either_direction():
    up, _ = run([Sample(t, {}, load=1.5) for t in (0, 10)])
    assert up == [[], ["load"]]
    down, _ = run([Sample(t, {}, load=0.5) for t in (0, 10)])
    assert down == [[], ["load"]]
    inside, _ = run([Sample(t, {}, load=1.15) for t in (0, 10, 20)])
    assert inside == [[], [], []]


def test_nothing_fires_while_a_new_placement_settles():
    memory = changed(Memory(), now=0)
    fired, memory = run([Sample(t, {PATH.id: 5}) for t in (1, 12, 29, 31)], memory=memory)
    assert fired == [[], [], [], ["qos"]]


def test_no_traffic_means_no_verdict_and_memory_round_trips_through_json():
    fired, memory = run([Sample(0, {PATH.id: 3}), Sample(20, {})])
    assert fired == [[], []]
    again = Memory.from_json(json.loads(json.dumps(memory.to_json())))
    assert again == memory and again.over_since == {PATH.id: 0}



def test_a_window_without_traffic_restarts_the_load_clock():
    """A batch below the band, a quiet spell (load unknown), then one request: the quiet spell
    is not time out of the band, so nothing fires until the load is out for a whole window."""
    fired, _ = run([Sample(0, {}, load=0.5), Sample(5, {}, load=None),
                    Sample(91, {}, load=0.02), Sample(95, {}, load=0.02),
                    Sample(101, {}, load=0.02)])
    assert fired == [[], [], [], [], ["load"]]
