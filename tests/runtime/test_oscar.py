"""Applying a compiled FDL through oscar-python to OSCAR clusters (loopback recording stand-ins:
no OSCAR can run here): create, no-op, update, drift, delete — asserted on the HTTP calls."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from compiler.compile import build
from compiler.runtime import oscar
from compiler.runtime.loopback import free_port
from tests.conftest import copy_example
from tests.runtime.oscar_stub import OscarStub, serve

L1, L3 = "mask-detection-layer1", "mask-detection-layer3"
ENV = {"OSCAR_PASSWORD_MASK_DETECTION_LAYER1": "pw-one",
       "OSCAR_USER_MASK_DETECTION_LAYER3": "admin", "OSCAR_PASSWORD_MASK_DETECTION_LAYER3": "pw3",
       "MINIO_SECRET_KEY_MASK_DETECTION_LAYER3": "minio-secret",
       "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "aws-secret"}
MUTATING = ("POST", "PUT", "DELETE")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> Path:
    """The mask-detection example compiled into a tree (FDL + the scripts it points at)."""
    root = tmp_path_factory.mktemp("compiled")
    app = copy_example("mask_detection", root / "src", models=False)
    for rel, data in build(app).artifacts.items():
        path = root / "repo" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root / "repo" / "aisprint" / "deployments" / "base" / "oscar" / "fdl.yaml"


@pytest.fixture(scope="module")
def servers():
    stubs = {L1: OscarStub(), L3: OscarStub()}
    running = [serve(s) for s in stubs.values()]
    yield stubs
    for server in running:
        server.shutdown()
        server.server_close()


@pytest.fixture
def clusters(servers):
    """Two empty OSCAR clusters (the module's stand-ins, emptied for each test)."""
    for stub in servers.values():
        with stub.lock:
            stub.services.clear()
            stub.requests.clear()
    return servers


def endpoints(stubs):
    return {c: s.url for c, s in stubs.items()}


def mutations(stubs):
    return {c: [(r.method, r.path) for r in s.requests if r.method in MUTATING]
            for c, s in stubs.items()}


def apply(fdl, stubs, **kwargs):
    return oscar.apply_fdl(fdl, endpoints(stubs), owner="mask_detection", environ=ENV, **kwargs)


def edited(fdl: Path, tmp_path: Path, edit) -> Path:
    """A copy of the FDL beside the original (script paths stay valid), changed by ``edit``."""
    data = yaml.safe_load(fdl.read_text())
    edit(data)
    out = fdl.with_name(f"fdl-{tmp_path.name}.yaml")
    out.write_text(yaml.safe_dump(data))
    return out


def services_of(data, cluster):
    return [e[cluster] for e in data["functions"]["oscar"] if cluster in e]


@pytest.mark.integration
def test_first_apply_creates_every_service_with_secrets_from_the_environment(compiled, clusters):
    result = apply(compiled, clusters)
    assert [(a.cluster, a.service, a.action) for a in result.actions] == [
        (L1, "blurry-faces-onnx", "create"), (L3, "mask-detector", "create")]
    assert mutations(clusters) == {L1: [("POST", "/system/services")],
                                   L3: [("POST", "/system/services")]}
    (post,) = clusters[L1].calls("POST")
    assert post.authorization == "Basic " + base64.b64encode(b"oscar:pw-one").decode()
    assert clusters[L3].calls("POST")[0].authorization == \
        "Basic " + base64.b64encode(b"admin:pw3").decode()
    body = post.body
    assert body["script"].startswith("#!")  # the script's content, not its path
    assert body["cpu"] == "3.5" and body["image"] == "blurry-faces-onnx_base_arm64:latest"
    assert body["storage_providers"]["minio"][L3]["secret_key"] == "minio-secret"
    assert body["labels"][oscar.MANAGED_BY] == "aisprint"
    assert body["labels"][oscar.APPLICATION] == "mask_detection"
    assert "${" not in yaml.safe_dump(clusters[L3].services)
    assert "minio-secret" not in compiled.read_text()  # the repository only has references


@pytest.mark.integration
def test_second_apply_with_nothing_changed_makes_no_mutating_call(compiled, clusters):
    apply(compiled, clusters)
    # OSCAR adds fields of its own (a token per service, defaults): they are not a change
    for stub in clusters.values():
        for service in stub.services.values():
            service.update(token="generated-by-oscar", log_level="INFO", alpine=False)
            service["input"][0]["suffix"] = None
            service["environment"]["secrets"] = {"HIDDEN": "***"}
    before = {c: len(s.requests) for c, s in clusters.items()}
    result = apply(compiled, clusters)
    assert not result.changed and result.summary() == "0 created, 0 updated, 0 deleted, " \
        "2 unchanged"
    assert {c: [(r.method, r.path) for r in s.requests[before[c]:]]
            for c, s in clusters.items()} == {L1: [("GET", "/system/services")],
                                             L3: [("GET", "/system/services")]}


@pytest.mark.integration
def test_a_changed_service_is_updated_once(compiled, clusters, tmp_path):
    apply(compiled, clusters)
    changed = edited(compiled, tmp_path,
                     lambda d: services_of(d, L3)[0].update(memory="4096Mi"))
    result = apply(changed, clusters)
    assert [(a.service, a.action, a.reason) for a in result.actions if a.mutating] == [
        ("mask-detector", "update", "definition changed")]
    assert mutations(clusters)[L3] == [("POST", "/system/services"), ("PUT", "/system/services")]
    assert mutations(clusters)[L1] == [("POST", "/system/services")]
    assert clusters[L3].services["mask-detector"]["memory"] == "4096Mi"
    assert not apply(changed, clusters).changed


@pytest.mark.integration
def test_drift_on_the_cluster_is_repaired(compiled, clusters):
    apply(compiled, clusters)
    clusters[L1].services["blurry-faces-onnx"]["image"] = "someone/else:latest"
    result = apply(compiled, clusters)
    assert [(a.action, a.reason) for a in result.actions if a.mutating] == [
        ("update", "drift on the cluster: image")]
    assert clusters[L1].services["blurry-faces-onnx"]["image"].startswith("blurry-faces-onnx")


@pytest.mark.integration
def test_a_removed_service_is_deleted_and_foreign_services_are_left_alone(compiled, clusters,
                                                                          tmp_path):
    apply(compiled, clusters)
    clusters[L3].services["someone-elses"] = {"name": "someone-elses", "image": "x"}
    clusters[L3].services["other-app"] = {
        "name": "other-app", "image": "y",
        "labels": {oscar.MANAGED_BY: "aisprint", oscar.APPLICATION: "other"}}
    smaller = edited(compiled, tmp_path, lambda d: d["functions"]["oscar"].pop())  # L3's
    result = apply(smaller, clusters)
    assert [(a.cluster, a.service, a.action) for a in result.actions if a.mutating] == [
        (L3, "mask-detector", "delete")]
    assert mutations(clusters)[L3][-1] == ("DELETE", "/system/services/mask-detector")
    assert set(clusters[L3].services) == {"someone-elses", "other-app"}


@pytest.mark.integration
def test_a_service_moving_between_clusters_is_created_before_it_is_deleted(compiled, clusters,
                                                                           tmp_path):
    apply(compiled, clusters)

    def move(data):
        entry = data["functions"]["oscar"].pop()
        data["functions"]["oscar"].append({L1: entry[L3]})

    result = apply(edited(compiled, tmp_path, move), clusters)
    assert [(a.cluster, a.service, a.action) for a in result.actions if a.mutating] == [
        (L1, "mask-detector", "create"), (L3, "mask-detector", "delete")]
    assert set(clusters[L1].services) == {"blurry-faces-onnx", "mask-detector"}
    assert clusters[L3].services == {}


@pytest.mark.integration
def test_a_service_made_by_im_is_adopted(compiled, clusters):
    clusters[L1].services["blurry-faces-onnx"] = {"name": "blurry-faces-onnx",
                                                  "image": "old:1", "script": "#!/bin/sh"}
    result = apply(compiled, clusters)
    assert [(a.service, a.action) for a in result.actions] == [
        ("blurry-faces-onnx", "update"), ("mask-detector", "create")]
    assert result.actions[0].reason.startswith("adopted")
    assert not apply(compiled, clusters).changed


@pytest.mark.integration
def test_dry_run_reports_without_calling_and_needs_no_storage_secrets(compiled, clusters):
    env = {k: v for k, v in ENV.items() if k.startswith("OSCAR_")}
    result = oscar.apply_fdl(compiled, endpoints(clusters), environ=env, dry_run=True)
    assert result.count("create") == 2 and result.summary().startswith("2 would be created")
    assert mutations(clusters) == {L1: [], L3: []}
    assert result.to_json()["actions"][0] == {"cluster": L1, "service": "blurry-faces-onnx",
                                              "action": "create", "reason": "new service"}


@pytest.mark.integration
def test_missing_secrets_and_endpoints_fail_before_any_call(compiled, clusters):
    def code_of(**kwargs):
        with pytest.raises(oscar.OscarError) as err:
            oscar.apply_fdl(compiled, **kwargs)
        return err.value.diagnostics[0]

    no_minio = {k: v for k, v in ENV.items() if not k.startswith("MINIO")}
    d = code_of(cluster_endpoints=endpoints(clusters), environ=no_minio)
    assert d.code == "AIS994" and "MINIO_SECRET_KEY_MASK_DETECTION_LAYER3" in d.message
    no_password = {k: v for k, v in ENV.items() if k != "OSCAR_PASSWORD_MASK_DETECTION_LAYER3"}
    d = code_of(cluster_endpoints=endpoints(clusters), environ=no_password)
    assert d.code == "AIS994" and "OSCAR_PASSWORD_MASK_DETECTION_LAYER3" in d.hint
    d = code_of(cluster_endpoints={L1: clusters[L1].url}, environ=ENV)
    assert d.code == "AIS993" and "OSCAR_ENDPOINT_MASK_DETECTION_LAYER3" in d.hint
    assert all(s.requests == [] for s in clusters.values())
    # an endpoint from the environment works as well as one from IM's outputs
    env = {**ENV, "OSCAR_ENDPOINT_MASK_DETECTION_LAYER3": clusters[L3].url}
    assert oscar.apply_fdl(compiled, {L1: clusters[L1].url}, environ=env).count("create") == 2


@pytest.mark.integration
def test_unreachable_and_refusing_clusters_are_diagnostics(compiled, clusters):
    dead = {L1: f"http://127.0.0.1:{free_port()}", L3: clusters[L3].url}
    with pytest.raises(oscar.OscarError) as err:
        oscar.apply_fdl(compiled, dead, environ=ENV)
    assert err.value.diagnostics[0].code == "AIS995"
    # a wrong endpoint path: the server answers 404 with its message
    wrong = {L1: clusters[L1].url + "/oscar", L3: clusters[L3].url}
    with pytest.raises(oscar.OscarError) as err:
        oscar.apply_fdl(compiled, wrong, environ=ENV)
    d = err.value.diagnostics[0]
    assert d.code == "AIS996" and "HTTP 404" in d.message and "service not found" in d.message


def test_malformed_fdls_are_diagnostics(tmp_path):
    def code_of(data):
        with pytest.raises(oscar.OscarError) as err:
            oscar.desired_services(data, tmp_path)
        return err.value.diagnostics[0].code

    assert code_of({"functions": {}}) == "AIS992"
    assert code_of({"functions": {"oscar": [{"c": {"name": "s"}}]}}) == "AIS992"
    assert code_of({"functions": {"oscar": [{"c": {"name": "s", "image": "i",
                                                  "script": "missing.sh"}}]}}) == "AIS992"
    (tmp_path / "s.sh").write_text("#!/bin/sh\n")
    twice = {"c": {"name": "s", "image": "i", "script": "s.sh"}}
    assert code_of({"functions": {"oscar": [twice, twice]}}) == "AIS992"
    (one,) = oscar.desired_services({"functions": {"oscar": [twice]}}, tmp_path)
    assert repr(oscar.OscarCredentials("u", "secret")).count("secret") == 0
    assert one.cluster == "c" and len(one.digest) == 32


@pytest.mark.integration
def test_an_oidc_token_is_sent_as_a_bearer(compiled, clusters):
    env = {**ENV, "OSCAR_TOKEN_MASK_DETECTION_LAYER1": "eyJ.token"}
    env.pop("OSCAR_PASSWORD_MASK_DETECTION_LAYER1")
    oscar.apply_fdl(compiled, endpoints(clusters), environ=env)
    assert {r.authorization for r in clusters[L1].requests} == {"Bearer eyJ.token"}
