"""The overlays as a whole: core resources valid against the Kubernetes 1.32 schemas (offline, strict),
no Secret committed and every referenced one accounted for, the MongoDB replica set with one database
and user per service, the OpenTelemetry Collector, and TLS in front of the gateway."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from mimis_platform.contracts.k8s_workloads import MONGODB, WORKLOADS
from tests.deploy.conftest import Rendered

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES_VERSION = "1.32.0"  # the preinstalled kubectl's; Strimzi 0.51+ needs 1.30 or newer
CUSTOM_KINDS = {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "MongoDBCommunity"}


def test_core_resources_are_valid_against_the_kubernetes_schemas(rendered: Rendered) -> None:
    problems = []
    for r in rendered:
        try:
            kubernetes_validate.validate(r, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            # kubernetes-validate bundles no CRD schemas; tests/deploy/test_kafka.py and the tests below check these.
            assert r["kind"] in CUSTOM_KINDS, f"no schema for {r['apiVersion']} {r['kind']}"
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{r['kind']}/{r['metadata']['name']}: {str(error).splitlines()[0]}")
    assert not problems, "\n".join(problems)


def test_everything_lands_in_the_overlays_namespace(rendered: Rendered) -> None:
    namespace = "mimis" if rendered.overlay == "prod" else "mimis-dev"
    [ns] = rendered.of_kind("Namespace")
    assert ns["metadata"]["name"] == namespace
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/warn"] == "restricted"
    for r in rendered:
        if r["kind"] != "Namespace":
            assert r["metadata"].get("namespace") == namespace, f"{r['kind']}/{r['metadata']['name']}"


# -- secrets ------------------------------------------------------------------------------------


def _secret_references(rendered: Rendered) -> set[str]:
    names = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("secretKeyRef", "secretRef", "passwordSecretRef") and isinstance(value, dict):
                    names.add(value["name"])
                elif key == "secret" and isinstance(value, dict) and "secretName" in value:
                    names.add(value["secretName"])
                elif key == "tls" and isinstance(value, list):
                    names.update(t["secretName"] for t in value if "secretName" in t)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(rendered.resources)
    return names


def test_no_secret_is_committed(rendered: Rendered) -> None:
    assert not rendered.of_kind("Secret"), "Secrets are created in the cluster, never rendered from the repository"
    for r in rendered.of_kind("ConfigMap"):
        for key, value in r.get("data", {}).items():
            assert not re.search(r"(PASSWORD|SECRET_KEY|MONGO_URL)$", key), f"{r['metadata']['name']}: {key}"
            assert "mongodb://" not in value or "@" not in value, f"{r['metadata']['name']}: credentials in {key}"


def _made_by_operators(rendered: Rendered) -> set[str]:
    made = {f"{_kafka_name(rendered)}-cluster-ca-cert"}  # Strimzi's cluster CA
    made.update(u["metadata"]["name"] for u in rendered.of_kind("KafkaUser"))  # Strimzi's User Operator
    for mongodb in rendered.of_kind("MongoDBCommunity"):  # the MongoDB operator's connection strings
        made.update(u["connectionStringSecretName"] for u in mongodb["spec"]["users"])
    made.add("gateway-tls")  # cert-manager, from the Ingress annotation (or ops)
    return made


def _kafka_name(rendered: Rendered) -> str:
    [kafka] = rendered.of_kind("Kafka")
    name: str = kafka["metadata"]["name"]
    return name


def test_every_secret_ops_must_create_is_in_the_runbook(rendered: Rendered) -> None:
    runbook = (ROOT / "deploy/RUNBOOK.md").read_text()
    by_ops = _secret_references(rendered) - _made_by_operators(rendered)
    expected = {f"{s.name}-app" for s in WORKLOADS if s.has_secret_key}
    expected |= {f"{s.name}-mongodb-password" for s in WORKLOADS if s.uses_mongodb}
    assert by_ops == expected
    for name in sorted(by_ops | {"mimis-identity"}):
        assert name in runbook, f"deploy/RUNBOOK.md does not say how to create {name}"


# -- MongoDB ------------------------------------------------------------------------------------


def test_mongodb_is_a_replica_set_with_one_database_and_user_per_service(rendered: Rendered) -> None:
    mongodb = rendered.get("MongoDBCommunity", MONGODB)["spec"]
    assert mongodb["type"] == "ReplicaSet", "the outbox needs transactions, which need a replica set"
    assert mongodb["members"] == (3 if rendered.overlay == "prod" else 1)
    assert mongodb["security"]["authentication"]["modes"] == ["SCRAM"]
    users = {u["name"]: u for u in mongodb["users"]}
    assert set(users) == {s.name for s in WORKLOADS if s.uses_mongodb}
    for service in (w for w in WORKLOADS if w.uses_mongodb):
        user = users[service.name]
        assert user["roles"] == [{"name": "readWrite", "db": service.name}], "its own database, nobody else's"
        assert user["passwordSecretRef"]["name"] == f"{service.name}-mongodb-password"
        [container] = rendered.get("Deployment", service.name)["spec"]["template"]["spec"]["containers"]
        [url] = [v for v in container["env"] if v["name"] == f"{service.env_prefix}MONGO_URL"]
        assert url["valueFrom"]["secretKeyRef"] == {"name": user["connectionStringSecretName"],
                                                    "key": "connectionString.standard"}
    containers = mongodb["statefulSet"]["spec"]["template"]["spec"]["containers"]
    for container in containers:
        assert {"requests", "limits"} <= set(container["resources"]), container["name"]


def test_only_the_services_reach_mongodb(rendered: Rendered) -> None:
    labels = rendered.get("MongoDBCommunity", MONGODB)["spec"]["statefulSet"]["spec"]["template"]["metadata"]["labels"]
    [policy] = [p for p in rendered.of_kind("NetworkPolicy")
                if p["spec"]["podSelector"].get("matchLabels") == labels]
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 27017}]
    clients = [d["metadata"]["name"] for d in rendered.of_kind("Deployment")
               if d["spec"]["template"]["metadata"]["labels"].get("mimis.skane.se/mongodb-client") == "true"]
    assert sorted(clients) == sorted(s.name for s in WORKLOADS if s.uses_mongodb)


# -- telemetry and the way in -------------------------------------------------------------------


def test_the_otel_collector_receives_otlp_from_every_service(rendered: Rendered) -> None:
    collector = rendered.get("Deployment", "otel-collector")
    [container] = collector["spec"]["template"]["spec"]["containers"]
    assert re.fullmatch(r"otel/opentelemetry-collector-contrib:\d+\.\d+\.\d+", container["image"])
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"requests", "limits"} <= set(container["resources"])
    service = rendered.get("Service", "otel-collector")
    assert {p["port"] for p in service["spec"]["ports"]} == {4317, 4318}
    config_name = collector["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"]
    config = next(c for c in rendered.of_kind("ConfigMap") if c["metadata"]["name"] == config_name)
    assert "otlp:" in config["data"]["config.yaml"] and "4318" in config["data"]["config.yaml"]
    for w in WORKLOADS:
        env = rendered.configmap(f"{w.name}-config")["data"]
        assert env[f"{w.env_prefix}OTLP_ENDPOINT"] == "http://otel-collector:4318"
        assert env[f"{w.env_prefix}TRACE_EXPORTER"] == "otlp"


def test_the_gateway_is_reached_over_tls_only(rendered: Rendered) -> None:
    [ingress] = rendered.of_kind("Ingress")
    spec = ingress["spec"]
    hosts = {rule["host"] for rule in spec["rules"]}
    tls_hosts = {h for tls in spec["tls"] for h in tls["hosts"]}
    assert hosts <= tls_hosts and all(tls["secretName"] for tls in spec["tls"])
    backends = {p["path"]: p["backend"]["service"]["name"] for rule in spec["rules"] for p in rule["http"]["paths"]}
    assert backends.pop("/") == "gateway", "the GraphQL gateway (and its pages) takes everything else"
    assert set(backends.values()) <= {"issuance"}, "besides the gateway, only issuance's public read-only paths"
    assert all(path.startswith(("/.well-known/", "/v1/status-lists/", "/v1/shared/")) for path in backends), backends
    if rendered.overlay == "prod":
        assert "cert-manager.io/cluster-issuer" in ingress["metadata"]["annotations"]


@pytest.mark.parametrize("kind", ["Deployment"])
def test_every_image_is_pinned(rendered: Rendered, kind: str) -> None:
    for r in rendered.of_kind(kind):
        for c in r["spec"]["template"]["spec"]["containers"]:
            image = c["image"]
            assert "@sha256:" in image or re.search(r":[\w][\w.-]*$", image), f"{image} has no tag or digest"
            assert not image.endswith(":latest"), image
