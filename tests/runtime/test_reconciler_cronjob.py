"""The reconciler on Kubernetes: its image and a CronJob."""

from __future__ import annotations


def test_the_reconciler_cronjob_is_a_valid_kubernetes_manifest_running_once():
    """compiler/runtime/reconciler_kubernetes/: what runs `aisprint reconcile --once` on a
    cluster."""
    from pathlib import Path

    import kubernetes_validate
    import yaml

    folder = Path(__file__).parents[2] / "compiler" / "runtime" / "reconciler_kubernetes"
    documents = [d for d in yaml.safe_load_all((folder / "cronjob.yaml").read_text()) if d]
    version = kubernetes_validate.latest_version()
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)
    (cronjob,) = [d for d in documents if d["kind"] == "CronJob"]
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][:2] == ["/work/deploy", "--once"]
    assert all("value" not in e for e in container["env"] if "TOKEN" in e["name"] or
               "AUTH" in e["name"])  # secrets come from Secrets
    dockerfile = (folder / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["aisprint", "reconcile"]' in dockerfile
