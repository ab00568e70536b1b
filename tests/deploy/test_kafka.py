"""Kafka through Strimzi, checked here because kubernetes-validate only warns on custom resources:
a KRaft cluster (3 nodes in prod), a KafkaTopic for every registry topic and dead-letter topic, and
KafkaUser ACLs equal to what the registry (and the services' code) says each one produces and consumes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from mimis_platform.contracts import CONTRACTS
from mimis_platform.contracts.k8s import OPS_PRINCIPAL, STRIMZI_API
from mimis_platform.contracts.k8s_workloads import KAFKA_BOOTSTRAP, SERVICES
from mimis_platform.contracts.topics import TOPICS
from tests.deploy.conftest import Rendered

ROOT = Path(__file__).resolve().parents[2]
Grants = dict[tuple[str, str], set[str]]
STRIMZI_KINDS = ("Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser")
ACL_OPERATIONS = {"Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction", "AlterConfigs",
                  "DescribeConfigs", "IdempotentWrite", "All"}


def _cluster(rendered: Rendered) -> dict[str, Any]:
    [kafka] = rendered.of_kind("Kafka")
    return kafka


def _brokers(rendered: Rendered) -> int:
    return sum(p["spec"]["replicas"] for p in rendered.of_kind("KafkaNodePool") if "broker" in p["spec"]["roles"])


def test_every_strimzi_resource_uses_the_v1_api_and_names_the_cluster(rendered: Rendered) -> None:
    name = _cluster(rendered)["metadata"]["name"]
    assert f"{name}-kafka-bootstrap:9093" == KAFKA_BOOTSTRAP
    for r in rendered:
        if r["kind"] in STRIMZI_KINDS:
            assert r["apiVersion"] == STRIMZI_API, f"{r['kind']} {r['metadata']['name']}: Strimzi 0.49+ API"
            if r["kind"] != "Kafka":
                assert r["metadata"]["labels"]["strimzi.io/cluster"] == name


def test_the_cluster_runs_kraft_with_authenticated_tls_and_acls(rendered: Rendered) -> None:
    spec = _cluster(rendered)["spec"]
    assert "zookeeper" not in spec
    pools = rendered.of_kind("KafkaNodePool")
    roles = {role for p in pools for role in p["spec"]["roles"]}
    assert roles == {"controller", "broker"}, "KRaft: the nodes are their own controllers"
    for pool in pools:
        assert pool["spec"]["storage"]["type"] in ("jbod", "persistent-claim")
        assert {"requests", "limits"} <= set(pool["spec"]["resources"])
    expected_brokers = 3 if rendered.overlay == "prod" else 1
    assert _brokers(rendered) == expected_brokers
    controllers = sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"])
    assert controllers % 2 == 1, "an odd controller quorum"

    kafka = spec["kafka"]
    assert kafka["listeners"], "at least one listener"
    for listener in kafka["listeners"]:
        assert listener["tls"] is True and listener["authentication"]["type"] == "scram-sha-512", listener["name"]
        assert listener["type"] == "internal", "nothing outside the cluster reaches the brokers"
        peers = listener["networkPolicyPeers"]
        assert peers == [{"podSelector": {"matchLabels": {"mimis.skane.se/kafka-client": "true"}}}]
    assert kafka["authorization"]["type"] == "simple"
    assert set(spec["entityOperator"]) >= {"topicOperator", "userOperator"}

    config = kafka["config"]
    assert config["auto.create.topics.enable"] is False, "the Topic Operator owns topics"
    replicas = 3 if rendered.overlay == "prod" else 1
    assert config["default.replication.factor"] == replicas == config["offsets.topic.replication.factor"]
    assert config["min.insync.replicas"] == max(1, replicas - 1)
    if rendered.overlay == "prod":
        assert kafka["rack"]["topologyKey"] == "topology.kubernetes.io/zone"


def test_every_registry_topic_and_its_dlq_has_a_kafka_topic(rendered: Rendered) -> None:
    topics = {t["spec"]["topicName"]: t for t in rendered.of_kind("KafkaTopic")}
    assert set(topics) == set(TOPICS.all_names())
    brokers = _brokers(rendered)
    for spec in TOPICS:
        for name, retention in ((spec.name, spec.retention_ms), (spec.dlq, spec.dlq_retention_ms)):
            topic = topics[name]["spec"]
            assert topic["partitions"] == spec.partitions, name
            assert topic["config"]["retention.ms"] == str(retention), name
            assert topic["replicas"] == min(spec.replication_factor, brokers), name
            assert 1 <= int(topic["config"]["min.insync.replicas"]) <= max(1, topic["replicas"] - 1), (
                f"{name}: one replica may fail and acks=all still succeeds"
            )


def _expected_service_grants(service: str) -> Grants:
    """Written out from the registry independently of the generator."""
    grants: Grants = {}

    def grant(kind: str, name: str, *ops: str) -> None:
        grants.setdefault((kind, name), set()).update(ops)

    for topic in TOPICS:
        if service in topic.producers:
            grant("topic", topic.name, "Write", "Describe")
        if service in topic.consumers:
            grant("topic", topic.name, "Read", "Describe")
            grant("topic", topic.dlq, "Write", "Describe")  # it dead-letters what it cannot handle
            grant("group", topic.group_of(service), "Read")  # named after it, or a group of its own the topic names
    return grants


def _rendered_grants(user: dict[str, Any]) -> Grants:
    grants: Grants = {}
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        assert resource["patternType"] == "literal", f"{user['metadata']['name']}: no prefixes, no wildcards"
        assert resource["name"] != "*"
        assert set(acl["operations"]) <= ACL_OPERATIONS and "All" not in acl["operations"]
        grants.setdefault((resource["type"], resource["name"]), set()).update(acl["operations"])
    return grants


def test_each_service_user_may_do_exactly_what_the_registry_says(rendered: Rendered) -> None:
    users = {u["metadata"]["name"]: u for u in rendered.of_kind("KafkaUser")}
    principals = {name for t in TOPICS for name in (*t.producers, *t.consumers)}
    assert set(users) == principals | {OPS_PRINCIPAL}
    for name in principals:
        user = users[name]
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        assert user["spec"]["authorization"]["type"] == "simple"
        assert _rendered_grants(user) == _expected_service_grants(name), name


def test_every_kafka_service_has_a_user_and_uses_its_secret(rendered: Rendered) -> None:
    users = {u["metadata"]["name"] for u in rendered.of_kind("KafkaUser")}
    for service in SERVICES:
        assert service.name in users, f"{service.name} talks to Kafka and needs a KafkaUser"
        [container] = rendered.get("Deployment", service.name)["spec"]["template"]["spec"]["containers"]
        refs = {v["valueFrom"]["secretKeyRef"]["name"] for v in container.get("env", [])
                if "secretKeyRef" in v.get("valueFrom", {})}
        assert service.name in refs, "the password Strimzi's User Operator writes to a Secret named after the user"


def test_the_ops_user_reads_dead_letters_and_writes_them_back_only(rendered: Rendered) -> None:
    grants = _rendered_grants(rendered.get("KafkaUser", OPS_PRINCIPAL))
    expected: Grants = {}
    for topic in TOPICS:
        expected[("topic", topic.dlq)] = {"Read", "Describe"}
        expected[("topic", topic.name)] = {"Write", "Describe"}
    for topic in TOPICS:
        for service in topic.consumers:
            expected[("group", topic.group_of(service))] = {"Describe"}  # lag checks
    assert grants == expected


def test_the_services_code_consumes_only_what_their_users_may_read() -> None:
    """Each service's routing table (built by its own bootstrap, in a fresh process so no global state
    leaks into this session) handles only event types on topics its KafkaUser may read."""
    script = (
        "import importlib, json\n"
        f"names = {[s.name for s in SERVICES]!r}\n"
        "routes = {n: sorted(importlib.import_module(f'services.{n}.bootstrap').bootstrap().state.runtime.routes)"
        " for n in names}\n"
        "print('ROUTES ' + json.dumps(routes))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    [line] = [ln for ln in done.stdout.splitlines() if ln.startswith("ROUTES ")]
    routes: dict[str, list[str]] = json.loads(line.removeprefix("ROUTES "))
    for service, event_types in routes.items():
        readable = {topic for (kind, topic), ops in _expected_service_grants(service).items()
                    if kind == "topic" and "Read" in ops}
        for event_type in event_types:
            topic = CONTRACTS.topic_for(event_type).name
            assert topic in readable, f"{service} handles {event_type} from {topic} but may not read it"


def test_event_types_are_produced_by_the_service_they_are_named_after() -> None:
    services = {s.name for s in SERVICES}
    for event_type in CONTRACTS.schemas:
        owner = event_type.split(".")[0]
        if owner in services:
            topic = CONTRACTS.topic_for(event_type)
            assert owner in topic.producers, f"{event_type} is on {topic.name}, which {owner} may not write"
