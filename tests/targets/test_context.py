"""The hand-built context of the emitter tests is one the design stage could have made: its
views equal what ``compiler.design.deployments`` derives from its application, so the emitter
tests exercise real inputs (and a change of the design rules shows up here, not as a puzzling
emitter failure)."""

from __future__ import annotations

from dataclasses import replace

from compiler.design.deployments import base_units, count_deployments, enumerate_deployments, expand
from compiler.tools import find_custom_types
from compiler.verify import check_artifacts
from targets import EMITTERS, FINAL, emit_tree
from targets.check import CheckTools
from tests.conftest import SHARED
from tests.targets import context as ctx
from tests.targets.golden import GOLDEN


def test_base_follows_the_base_rule():
    app = ctx.APPLICATION
    assert expand(app, "base", base_units(app)) == ctx.BASE


def test_the_design_space_holds_the_candidate_and_the_placed_units():
    app, cuts = ctx.APPLICATION, {"detector": ("1",)}
    space = list(enumerate_deployments(app, cuts))
    # camera: 1 way; detector: base or cut 1 (one layer each); notifier: layer 3 or 2
    assert count_deployments(app, cuts) == len(space) == 4
    assert expand(app, "deployment1", space[1]) == ctx.DEPLOYMENT1
    placed = space[2]  # camera, detector cut 1, notifier on Lambda
    # the placement chose 2 VMs for the second partition where the design offers totalNodes 3
    placed = tuple(replace(u, replicas=2) if u.name == "detector_partition1_2" else u
                   for u in placed)
    assert expand(app, "optimal_deployment", placed) == ctx.OPTIMAL
    assert expand(app, "current_deployment", placed) == ctx.CURRENT


def test_what_every_emitter_writes_for_it_passes_every_target_s_check():
    """The consumers (schemas, tosca-parser, oscar-python, the build contexts' own rules) accept
    the whole output; helm and IM's translation run in the integration tests."""
    files = emit_tree(ctx.context())  # the design tree's scripts included
    types = SHARED / "tosca-types"  # a clone without ../shared checks all but the TOSCA
    custom_types = find_custom_types(types) if types.is_dir() else None
    report = check_artifacts(files, CheckTools(custom_types=custom_types))
    assert report.rejected == ()
    skipped = {d.message.split(":")[0] for d in report.skipped}
    assert "Helm charts not checked" in skipped  # no helm given: the charts were seen
    assert ("TOSCA templates not checked" in skipped) == (custom_types is None), skipped


def test_every_registered_emitter_has_its_small_golden_tree():
    """A new emitter comes with its tests on this context (tests/targets/test_<name>.py with
    assert_golden, then --update-golden): the registry and the golden trees name the same."""
    assert sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()) == sorted([*EMITTERS,
                                                                              FINAL.name])
