"""deploy/: the compose file, the Kubernetes manifests and the production dagster.yaml, checked
offline by real schema validators (no container engine runs here): the compose-spec JSON
schema that check-jsonschema ships, the Kubernetes OpenAPI schemas that kubernetes-validate
bundles (strict: unknown fields are errors), and Dagster's own config schema for the instance
and for dagster_k8s.K8sRunLauncher. Every command they run is a real CLI command."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import click
import jsonschema
import kubernetes_validate
import pytest
import yaml

from analytics_pipeline.cli import main

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
K8S_VERSION = "1.33.0"
OUR_PROBES = {"/livez", "/readyz"}


def manifests() -> list[dict[str, Any]]:
    return [
        doc
        for path in sorted((DEPLOY / "k8s").glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    return spec.get("containers", [])


def check_cli(arguments: list[str]) -> None:
    """Parse ``analytics-pipeline ARGUMENTS`` as the CLI would (unknown options fail)."""
    command: click.Command = main
    rest = list(arguments)
    while isinstance(command, click.Group):
        name, *rest = rest
        assert name in command.commands, f"no command {name!r} in {arguments}"
        command = command.commands[name]
    command.make_context(command.name or "", rest)


def compose_schema() -> dict[str, Any]:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads(vendor.joinpath("compose-spec.json").read_text())


def test_the_compose_file_follows_the_compose_spec() -> None:
    schema = compose_schema()
    document = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [e.message for e in validator.iter_errors(document)] == []
    # The validator is real: a misspelt key is refused.
    broken = json.loads(json.dumps(document))
    broken["services"]["api"]["restart_polcy"] = "always"
    assert list(validator.iter_errors(broken))
    services = document["services"]
    assert {"analyzer", "relay", "deliver", "api", "dagster-webserver", "dagster-daemon"} <= set(
        services
    )
    assert services["analyzer"]["deploy"]["replicas"] > 1
    for name in ("analyzer", "relay", "deliver", "api"):
        check_cli(services[name]["command"])
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert any(path in probe for path in OUR_PROBES), name
    # PostgreSQL and Redis are external: no database or cache service here.
    assert not any("postgres" in s.get("image", "") for s in services.values())
    assert not any("redis" in s.get("image", "") for s in services.values())


def test_the_kubernetes_manifests_follow_the_kubernetes_schemas() -> None:
    docs = manifests()
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    broken = next(d for d in docs if d["kind"] == "Deployment")
    broken = json.loads(json.dumps(broken))
    broken["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)
    broken["spec"]["replicas"] = 1
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_the_manifests_run_the_pipeline_as_the_readme_says() -> None:
    docs = manifests()
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert {"analyzer", "api", "relay", "deliver", "dagster-webserver", "dagster-daemon"} <= set(
        deployments
    )
    assert deployments["analyzer"]["spec"]["replicas"] > 1
    assert deployments["dagster-daemon"]["spec"]["replicas"] == 1
    for name in ("analyzer", "api", "relay", "deliver"):
        (container,) = containers(deployments[name])
        check_cli(container["args"])
        assert container["livenessProbe"]["httpGet"]["path"] == "/livez", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    assert services["api"]["spec"]["selector"] == {"app.kubernetes.io/name": "api"}
    assert services["postgres"]["spec"]["type"] == "ExternalName"
    assert services["redis"]["spec"]["type"] == "ExternalName"
    secret = next(d for d in docs if d["kind"] == "Secret")
    assert {"DATABASE_URL", "REDIS_URL", "DAGSTER_POSTGRES_URL"} <= set(secret["stringData"])
    # The run pods get the instance from this ConfigMap: the same text as deploy/dagster.yaml.
    instance = next(d for d in docs if d["metadata"]["name"] == "dagster-instance")
    assert instance["data"]["dagster.yaml"] == (DEPLOY / "dagster.yaml").read_text()
    job = next(d for d in docs if d["kind"] == "Job")
    check_cli(containers(job)[0]["args"])


def test_the_production_dagster_instance_follows_dagsters_schema(monkeypatch) -> None:
    from dagster._config import process_config
    from dagster._core.instance.config import dagster_instance_config
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_k8s import K8sRunLauncher

    monkeypatch.setenv("DAGSTER_POSTGRES_URL", "postgresql+psycopg2://u@postgres/analytics")
    monkeypatch.setenv("DAGSTER_JOB_IMAGE", "registry.example.com/analytics-pipeline:1.0.0")
    monkeypatch.setenv("DAGSTER_JOB_NAMESPACE", "analytics")
    config, _instance_class = dagster_instance_config(str(DEPLOY), "dagster.yaml")
    launcher = config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    checked = process_config(K8sRunLauncher.config_type(), launcher["config"])
    assert checked.success, checked.errors
    assert checked.value["instance_config_map"] == "dagster-instance"
    coordinator = config["run_coordinator"]["config"]
    assert process_config(QueuedRunCoordinator.config_type(), coordinator).success
    assert "postgres" in config["storage"]
    misspelt = dict(launcher["config"], job_imag="x")
    assert not process_config(K8sRunLauncher.config_type(), misspelt).success


def test_the_dockerfile_copies_what_exists_and_runs_the_cli() -> None:
    lines = (DEPLOY / "Dockerfile").read_text().splitlines()
    root = DEPLOY.parent
    for line in lines:
        if line.startswith("COPY "):
            *sources, _target = line.split()[1:]
            for source in sources:
                assert (root / source).exists(), source
    assert 'ENTRYPOINT ["analytics-pipeline"]' in lines
