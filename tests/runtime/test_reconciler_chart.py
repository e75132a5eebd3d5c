"""The reconciler's Helm chart (compiler/runtime/reconciler_kubernetes/chart/): helm lint,
helm template with default and non-default values, kubernetes-validate --strict on what it
renders, its container arguments parsed by the real `aisprint reconcile` CLI, its environment
read by the reconciler's own configuration readers, and the values schema refusing wrong
types."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import kubernetes_validate
import pytest
import typer
import yaml

from compiler.cli.main import app as cli_app
from compiler.gitops.repo import Identity
from compiler.runtime import im as im_module
from compiler.runtime.metrics import load_config

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "compiler" / "runtime" / "reconciler_kubernetes"
CHART = DEPLOY / "chart"
RELEASE = "aisprint-reconciler"
SECRET_NAMES = re.compile(r"PASSWORD|TOKEN|SECRET|AUTH|KEY|DEPLOY_REPO_URL")

# Everything non-default at once: an existing claim, template patterns, InfluxDB 1, OSCAR
# credentials from Secrets, tuned triggers, a dedicated service account, scheduling.
CUSTOM = {
    "image": {"repository": "registry.example.org/aisprint-reconciler", "tag": "0.1.0",
              "pullPolicy": "Always"},
    "schedule": "*/5 * * * *",
    "timeZone": "Europe/Rome",
    "activeDeadlineSeconds": 3600,
    "deployRepository": {"url": {"secretName": "deploy-repo", "secretKey": "url"},
                         "branch": "production", "prefix": "apps/mask"},
    "reconcile": {"app": "sources", "templates": ["*-layer1", "*-layer2"], "window": 30,
                  "for": 45.5, "band": 0.1, "cooldown": 600, "tolerance": 0.05, "push": "",
                  "author": "Deploy Bot <deploy@example.org>", "output": "text"},
    "im": {"url": "https://im.example.org/im",
           "auth": {"secretName": "im-credentials", "secretKey": "auth.dat"}},
    "metrics": {"url": "http://influxdb.monitoring:8086", "version": 1, "database": "ams",
                "username": "reader",
                "password": {"secretName": "influx", "secretKey": "password"}},
    "oscar": {"enabled": True, "existingSecret": "oscar-credentials"},
    "extraEnv": [
        {"name": "OSCAR_ENDPOINT_EDGE", "value": "https://oscar.edge.example.org"},
        {"name": "OSCAR_PASSWORD_EDGE",
         "valueFrom": {"secretKeyRef": {"name": "oscar-edge", "key": "password"}}},
    ],
    "persistence": {"existingClaim": "reconciler-state"},
    "serviceAccount": {"create": True},
    "nodeSelector": {"kubernetes.io/arch": "amd64"},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gitops",
                     "effect": "NoSchedule"}],
}


def helm_template(helm, tmp_path, values=None):
    command = [str(helm), "template", RELEASE, str(CHART), "--namespace", "gitops"]
    if values is not None:
        file = tmp_path / "values.yaml"
        file.write_text(yaml.safe_dump(values))
        command += ["-f", str(file)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def render(helm, tmp_path, values=None):
    done = helm_template(helm, tmp_path, values)
    assert done.returncode == 0, done.stderr
    documents = [d for d in yaml.safe_load_all(done.stdout) if d]
    version = kubernetes_validate.latest_version()
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)
    return {d["kind"]: d for d in documents}, done.stdout


def pod_spec(cronjob):
    return cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def parse_reconcile(args):
    """The rendered arguments as the image's entrypoint (`aisprint reconcile`) parses them:
    a renamed or removed flag raises here."""
    group = typer.main.get_command(cli_app)
    command = group.get_command(group.make_context("aisprint", ["reconcile"]), "reconcile")
    return command.make_context("reconcile", list(args)).params


def environment(container, secrets):
    """The container's environment with each Secret reference resolved from ``secrets``."""
    env = {}
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = variable["value"]
        else:
            ref = variable["valueFrom"]["secretKeyRef"]
            env[variable["name"]] = secrets[(ref["name"], ref["key"])]
    return env


def test_the_chart_lints_strictly_with_default_and_custom_values(helm, tmp_path):
    for extra in ([], ["-f", str(tmp_path / "custom.yaml")]):
        (tmp_path / "custom.yaml").write_text(yaml.safe_dump(CUSTOM))
        lint = subprocess.run([str(helm), "lint", "--strict", str(CHART), *extra],
                              capture_output=True, text=True, timeout=60)
        assert lint.returncode == 0, lint.stdout + lint.stderr
        assert "0 chart(s) failed" in lint.stdout


def test_the_defaults_render_the_plain_cronjob(helm, tmp_path):
    """Same image, schedule, arguments, names, state volume and security as ../cronjob.yaml."""
    kinds, _ = render(helm, tmp_path)
    assert set(kinds) == {"CronJob", "PersistentVolumeClaim"}
    plain = {d["kind"]: d for d in yaml.safe_load_all((DEPLOY / "cronjob.yaml").read_text()) if d}
    cronjob, pvc = kinds["CronJob"], kinds["PersistentVolumeClaim"]
    assert cronjob["metadata"]["name"] == plain["CronJob"]["metadata"]["name"]
    assert pvc["metadata"]["name"] == plain["PersistentVolumeClaim"]["metadata"]["name"]
    for key in ("schedule", "concurrencyPolicy"):
        assert cronjob["spec"][key] == plain["CronJob"]["spec"][key]
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    spec, plain_spec = pod_spec(cronjob), pod_spec(plain["CronJob"])
    (container,), (plain_container,) = spec["containers"], plain_spec["containers"]
    assert container["image"] == plain_container["image"] == "aisprint-reconciler:latest"
    assert container["args"] == plain_container["args"]
    assert "command" not in container  # the image's entrypoint is `aisprint reconcile`
    assert 'ENTRYPOINT ["aisprint", "reconcile"]' in (DEPLOY / "Dockerfile").read_text()
    assert container["resources"] == plain_container["resources"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == plain_spec["securityContext"]["runAsUser"]
    assert "USER reconciler" in (DEPLOY / "Dockerfile").read_text()
    assert "--uid 10001" in (DEPLOY / "Dockerfile").read_text()
    (clone,) = spec["initContainers"]
    assert clone["command"][:4] == ["git", "clone", "--branch", "main"]
    assert {"name": "state", "persistentVolumeClaim": {"claimName": pvc["metadata"]["name"]}} \
        in spec["volumes"]
    assert pvc["spec"]["resources"]["requests"]["storage"] == "1Gi"
    params = parse_reconcile(container["args"])
    assert params["once"] and not params["watch"]
    assert params["repo"] == params["app_dir"] == "/work/deploy"
    assert params["state"] == "/state"
    assert {"mountPath": "/state", "name": "state"} in container["volumeMounts"]
    assert params["push"] == "origin" and params["output"] == "json"
    assert params["oscar"] is False
    Identity.parse(params["author"])
    # No IM and no InfluxDB until they are named: no credentials are needed for them either.
    assert "env" not in container


def test_custom_values_render_valid_manifests_the_cli_accepts(helm, tmp_path):
    kinds, _ = render(helm, tmp_path, CUSTOM)
    assert set(kinds) == {"CronJob", "ServiceAccount"}  # the existing claim is not created
    cronjob = kinds["CronJob"]
    assert cronjob["spec"]["schedule"] == "*/5 * * * *"
    assert cronjob["spec"]["timeZone"] == "Europe/Rome"
    spec = pod_spec(cronjob)
    assert spec["serviceAccountName"] == kinds["ServiceAccount"]["metadata"]["name"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["nodeSelector"] == CUSTOM["nodeSelector"]
    assert spec["tolerations"] == CUSTOM["tolerations"]
    assert {"name": "state", "persistentVolumeClaim": {"claimName": "reconciler-state"}} \
        in spec["volumes"]
    (clone,), (container,) = spec["initContainers"], spec["containers"]
    assert container["image"] == clone["image"] == "registry.example.org/aisprint-reconciler:0.1.0"
    assert clone["command"][:4] == ["git", "clone", "--branch", "production"]
    params = parse_reconcile(container["args"])
    assert params["app_dir"] == "/work/deploy/sources"
    assert params["prefix"] == "apps/mask"
    assert params["template"] == ("*-layer1", "*-layer2")
    assert params["oscar"] is True
    assert (params["window"], params["violation_window"], params["band"], params["cooldown"],
            params["tolerance"]) == (30.0, 45.5, 0.1, 600.0, 0.05)
    assert params["push"] is None  # "" = no --push
    assert Identity.parse(params["author"]) == Identity("Deploy Bot", "deploy@example.org")
    assert params["output"] == "text"
    assert container["envFrom"] == [{"secretRef": {"name": "oscar-credentials"}}]
    env = environment(container, {("im-credentials", "auth.dat"): "auth",
                                  ("influx", "password"): "pw",
                                  ("oscar-edge", "password"): "oscar-pw"})
    assert env["IM_URL"] == "https://im.example.org/im" and im_module.AUTH_ENV in env
    assert env["OSCAR_ENDPOINT_EDGE"] == "https://oscar.edge.example.org"
    assert env["OSCAR_PASSWORD_EDGE"] == "oscar-pw"
    # The reconciler's own reader of $INFLUX_* finds the InfluxDB 1 store the values name.
    config = load_config(None, env)
    assert (config.backend, config.url, config.database, config.username) == \
        ("influxdb1", "http://influxdb.monitoring:8086", "ams", "reader")
    assert env["INFLUX_PASSWORD"] == "pw" and "INFLUX_TOKEN" not in env


def test_influxdb2_values_give_the_reconciler_a_complete_configuration(helm, tmp_path):
    values = {"metrics": {"url": "http://ai-sprint-monit-influxdb.ai-sprint-monitoring:8086",
                          "version": 2, "bucket": "mask-detection-bucket"}}
    kinds, _ = render(helm, tmp_path, values)
    (container,) = pod_spec(kinds["CronJob"])["containers"]
    env = environment(container, {("aisprint-reconciler", "influx-token"): "token"})
    config = load_config(None, env)
    assert (config.backend, config.org, config.bucket) == \
        ("influxdb2", "ai-sprint", "mask-detection-bucket")
    assert env["INFLUX_TOKEN"] == "token"


def test_the_plain_cronjob_environment_is_one_the_reconciler_accepts():
    cronjob = next(d for d in yaml.safe_load_all((DEPLOY / "cronjob.yaml").read_text())
                   if d and d["kind"] == "CronJob")
    (container,) = pod_spec(cronjob)["containers"]
    env = environment(container, {("aisprint-reconciler", "im-auth"): "auth",
                                  ("aisprint-reconciler", "influx-token"): "token"})
    assert load_config(None, env).backend == "influxdb2"
    parse_reconcile(container["args"])


@pytest.mark.parametrize(("key", "value", "message"), [
    ("schedule", 5, "schedule: Invalid type"),
    ("schedule", "every minute", "schedule: Does not match pattern"),
    ("persistence.size", True, "persistence.size: Invalid type"),
    ("metrics.version", 3, "metrics.version"),
    ("reconcile.window", "soon", "reconcile.window: Invalid type"),
    ("reconcile.templtes", ["*-layer1"], "Additional property templtes is not allowed"),
    ("im.auth.secretName", "", "im.auth.secretName"),
])
def test_a_wrong_value_fails_on_the_schema(helm, tmp_path, key, value, message):
    *parents, leaf = key.split(".")
    values = node = {}
    for parent in parents:
        node = node.setdefault(parent, {})
    node[leaf] = value
    done = helm_template(helm, tmp_path, values)
    assert done.returncode != 0
    assert "don't meet the specifications of the schema" in done.stderr
    assert message in done.stderr


@pytest.mark.parametrize(("values", "message"), [
    ({"im": {"url": "https://im.example.org/im"}, "persistence": {"enabled": False}},
     "persistence.enabled is false but im.url is set"),
    ({"metrics": {"url": "http://influx:8086", "version": 2}},
     "metrics.bucket is needed with metrics.version 2"),
    ({"extraEnv": [{"name": "OSCAR_PASSWORD_EDGE", "value": "hunter2"}]},
     "extraEnv OSCAR_PASSWORD_EDGE has a plain value"),
])
def test_values_that_would_break_the_reconciler_are_refused(helm, tmp_path, values, message):
    done = helm_template(helm, tmp_path, values)
    assert done.returncode != 0
    assert message in done.stderr
    assert "hunter2" not in done.stderr


def test_no_secret_content_is_rendered(helm, tmp_path):
    values = dict(CUSTOM, metrics={"url": "http://influx:8086", "version": 2, "bucket": "b"})
    kinds, _ = render(helm, tmp_path, values)
    assert "Secret" not in kinds
    spec = pod_spec(kinds["CronJob"])
    names = []
    for container in spec["initContainers"] + spec["containers"]:
        for variable in container.get("env", []):
            if SECRET_NAMES.search(variable["name"]):
                names.append(variable["name"])
                assert set(variable) == {"name", "valueFrom"}, variable
                assert set(variable["valueFrom"]) == {"secretKeyRef"}, variable
    assert {"DEPLOY_REPO_URL", "IM_AUTH", "INFLUX_TOKEN", "OSCAR_PASSWORD_EDGE"} <= set(names)
    assert not any("://" in part for part in spec["initContainers"][0]["command"])


def test_the_image_installs_every_package_and_the_chart_follows_its_version():
    """The Dockerfile runs `pip install .`, which installs only pyproject's packages."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    setuptools = project["tool"]["setuptools"]
    folders = setuptools["package-dir"]
    listed = {folders.get(p, p.replace(".", "/")) for p in setuptools["packages"]}
    for init in [*REPO.glob("compiler/**/__init__.py"), *REPO.glob("targets/**/__init__.py")]:
        folder = init.parent.relative_to(REPO).as_posix()
        assert folder in listed, f"{folder} is not installed by pyproject's packages"
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "aisprint-reconciler"
    assert chart["appVersion"] == project["project"]["version"]


def test_the_state_claim_follows_the_persistence_values(helm, tmp_path):
    kinds, _ = render(helm, tmp_path, {"persistence": {"size": "5Gi", "storageClass": "-",
                                                       "keep": False}})
    pvc = kinds["PersistentVolumeClaim"]
    assert pvc["spec"]["storageClassName"] == ""  # "-": no class, not the cluster's default
    assert pvc["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert "annotations" not in pvc["metadata"]
    kinds, _ = render(helm, tmp_path, {"persistence": {"enabled": False}})
    assert "PersistentVolumeClaim" not in kinds
    assert {"name": "state", "emptyDir": {}} in pod_spec(kinds["CronJob"])["volumes"]


def test_the_readme_values_example_renders(helm, tmp_path):
    readme = (REPO / "README.md").read_text()
    example = re.search(r"# my-values\.yaml\n(.*?)```", readme, re.S)
    assert example, "README: the Helm values example (# my-values.yaml) is gone"
    kinds, _ = render(helm, tmp_path, yaml.safe_load(example.group(1)))
    (container,) = pod_spec(kinds["CronJob"])["containers"]
    assert parse_reconcile(container["args"])["template"] == ("*-layer1",)
