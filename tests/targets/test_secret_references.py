"""Emitters write references only: a literal credential the user allowed for a local test
(AISPRINT_ALLOW_LITERAL_SECRETS=1) becomes the ${VAR} the validator's warning names."""

from __future__ import annotations

import re

from compiler import api
from compiler.compile import build
from targets import tosca
from tests.conftest import copy_example
from tests.test_secrets import INPUT_CANARIES, MINIO_ACCESS, PHYSICAL_NODES, leaks


def _canary_app(tmp_path, physical_nodes: str):
    app = copy_example("smart_city", tmp_path, models=False)
    (app / "common_config" / "physical_nodes.yaml").write_text(physical_nodes)
    return app


def test_every_artifact_holds_the_reference_the_warning_names(tmp_path, monkeypatch):
    monkeypatch.setenv("AISPRINT_ALLOW_LITERAL_SECRETS", "1")
    app = _canary_app(tmp_path, PHYSICAL_NODES)
    report = api.validate(app)
    assert report.valid
    named = {m for d in report.diagnostics if d.code == "AIS601"
             for m in re.findall(r"\$\{(AISPRINT_[A-Z0-9_]+)\}", d.hint)}
    artifacts = build(app).artifacts
    written = {m for data in artifacts.values()
               for m in re.findall(rb"\$\{(AISPRINT_[A-Z0-9_]+)\}", data)}
    # the SSH keys the templates use carry the names the warnings gave
    assert {"AISPRINT_EDGEXEON_FE_NODE_SSH_KEY", "AISPRINT_EDGEXEON_WNS_1_SSH_KEY"} \
        <= {w.decode() for w in written} & named
    assert all(leaks(data, INPUT_CANARIES) == [] for data in artifacts.values())


def test_minio_keys_are_references_literal_or_not(tmp_path, monkeypatch):
    monkeypatch.setenv("AISPRINT_ALLOW_LITERAL_SECRETS", "1")
    literal = api.validate(_canary_app(tmp_path / "a", PHYSICAL_NODES)).application
    assert tosca._minio_keys(literal, 1) == ("${AISPRINT_JETSONNANO_MINIO_ACCESS_KEY}",
                                             "${AISPRINT_JETSONNANO_MINIO_SECRET_KEY}")
    as_written = PHYSICAL_NODES.replace(MINIO_ACCESS, "${CABINET_KEY}")
    user = api.validate(_canary_app(tmp_path / "b", as_written)).application
    assert tosca._minio_keys(user, 1)[0] == "${CABINET_KEY}"  # the user's own name stays
