"""Strimzi resources generated from the topic registry: a ``KafkaTopic`` for every topic and its
dead-letter twin, and a ``KafkaUser`` per principal whose ACLs grant exactly what the registry says
it produces and consumes.

``python -m mimis_platform.contracts.k8s`` prints the topics (as it always did);
``python -m mimis_platform.contracts.k8s --write`` rewrites every generated file under
``deploy/k8s/base`` (topics, users, the per-service workloads and the MongoDB replica set).
Tests fail when a committed file and its generator disagree.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mimis_platform.contracts.topics import TOPICS, TopicRegistry

STRIMZI_API = "kafka.strimzi.io/v1"
CLUSTER = "mimis"
#: The operators' principal: reads dead letters, writes them back to their topics, watches consumer lag.
OPS_PRINCIPAL = "mimis-ops"

Resource = dict[str, Any]


def kafka_topic_resources(registry: TopicRegistry = TOPICS, cluster: str = CLUSTER) -> list[Resource]:
    resources = []
    for spec in registry:
        for name, retention, role in (
            (spec.name, spec.retention_ms, "events"),
            (spec.dlq, spec.dlq_retention_ms, "dead-letters"),
        ):
            resources.append(
                {
                    "apiVersion": STRIMZI_API,
                    "kind": "KafkaTopic",
                    "metadata": {
                        # Kubernetes names allow no dots in some tools' eyes; topicName keeps the real name.
                        "name": name.replace(".", "-"),
                        "labels": {
                            "strimzi.io/cluster": cluster,
                            "app.kubernetes.io/part-of": "mimis",
                            "mimis.skane.se/topic-role": role,
                        },
                    },
                    "spec": {
                        "topicName": name,
                        "partitions": spec.partitions,
                        "replicas": spec.replication_factor,
                        "config": {"retention.ms": str(retention), "min.insync.replicas": "2"},
                    },
                }
            )
    return resources


def render_yaml(registry: TopicRegistry = TOPICS) -> str:
    # JSON is valid YAML; one document per resource keeps kustomize and kubectl happy.
    header = "# Generated from mimis_platform/contracts/topics.py by `python -m mimis_platform.contracts.k8s`.\n"
    return header + "".join(
        f"---\n{json.dumps(r, indent=2, ensure_ascii=False)}\n" for r in kafka_topic_resources(registry)
    )


# -- users and ACLs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """Operations one principal may perform on one Kafka resource (a topic or a consumer group)."""

    resource_type: str  # "topic" | "group"
    name: str
    operations: tuple[str, ...]

    def as_acl(self) -> Resource:
        return {
            "resource": {"type": self.resource_type, "name": self.name, "patternType": "literal"},
            "operations": list(self.operations),
        }


def _merge(grants: Iterable[tuple[str, str, Iterable[str]]]) -> list[Grant]:
    """One grant per resource, operations sorted, resources in first-seen order (stable output)."""
    merged: dict[tuple[str, str], set[str]] = {}
    for resource_type, name, operations in grants:
        merged.setdefault((resource_type, name), set()).update(operations)
    return [Grant(kind, name, tuple(sorted(ops))) for (kind, name), ops in merged.items()]


def principals(registry: TopicRegistry = TOPICS) -> list[str]:
    """Everyone the registry names as a producer or a consumer, in first-seen order."""
    seen: dict[str, None] = {}
    for spec in registry:
        for name in (*spec.producers, *spec.consumers):
            seen.setdefault(name, None)
    return list(seen)


def service_grants(principal: str, registry: TopicRegistry = TOPICS) -> list[Grant]:
    """What the registry lets ``principal`` do: Write/Describe on what it produces; Read/Describe on what
    it consumes, Read on its consumer groups (the service name, or a group the topic names) and Write/Describe on the
    dead-letter topics of what it consumes (a consumer dead-letters there)."""
    wanted: list[tuple[str, str, Iterable[str]]] = []
    for spec in registry:
        if principal in spec.producers:
            wanted.append(("topic", spec.name, ("Write", "Describe")))
        if principal in spec.consumers:
            wanted.append(("topic", spec.name, ("Read", "Describe")))
            wanted.append(("topic", spec.dlq, ("Write", "Describe")))
    wanted.extend(("group", group, ("Read",)) for group in registry.groups_of(principal))
    return _merge(wanted)


def ops_grants(registry: TopicRegistry = TOPICS) -> list[Grant]:
    """Replay needs Read on each dead-letter topic and Write on the topic it came from; lag checks need
    Describe on the services' consumer groups."""
    wanted: list[tuple[str, str, Iterable[str]]] = []
    for spec in registry:
        wanted.append(("topic", spec.dlq, ("Read", "Describe")))
        wanted.append(("topic", spec.name, ("Write", "Describe")))
    for principal in principals(registry):
        wanted.extend(("group", group, ("Describe",)) for group in registry.groups_of(principal))
    return _merge(wanted)


def kafka_user_resources(registry: TopicRegistry = TOPICS, cluster: str = CLUSTER) -> list[Resource]:
    """A SCRAM-SHA-512 ``KafkaUser`` per principal; Strimzi writes its password to a Secret of the same name."""
    users = [(name, "service", service_grants(name, registry)) for name in principals(registry)]
    users.append((OPS_PRINCIPAL, "ops", ops_grants(registry)))
    return [
        {
            "apiVersion": STRIMZI_API,
            "kind": "KafkaUser",
            "metadata": {
                "name": name,
                "labels": {
                    "strimzi.io/cluster": cluster,
                    "app.kubernetes.io/part-of": "mimis",
                    "mimis.skane.se/principal-role": role,
                },
            },
            "spec": {
                "authentication": {"type": "scram-sha-512"},
                "authorization": {"type": "simple", "acls": [g.as_acl() for g in grants]},
            },
        }
        for name, role, grants in users
    ]


def render_users_yaml(registry: TopicRegistry = TOPICS) -> str:
    header = (
        "# Generated from mimis_platform/contracts/topics.py by "
        "`python -m mimis_platform.contracts.k8s --write`; do not edit.\n"
    )
    return header + "".join(
        f"---\n{json.dumps(r, indent=2, ensure_ascii=False)}\n" for r in kafka_user_resources(registry)
    )


# -- every generated file -----------------------------------------------------------------------

BASE = Path("deploy/k8s/base")


def generated_files() -> dict[Path, Callable[[], str]]:
    """Each generated file (relative to the repository root) and the function that renders it."""
    from mimis_platform.contracts import k8s_mongodb, k8s_workloads

    files: dict[Path, Callable[[], str]] = {
        BASE / "kafka/topics.yaml": render_yaml,
        BASE / "kafka/users.yaml": render_users_yaml,
        BASE / "mongodb/mongodb.yaml": k8s_mongodb.render_mongodb,
    }
    files.update({BASE / path: render for path, render in k8s_workloads.generated_files().items()})
    return files


def write_all(root: Path) -> list[Path]:
    """Rewrite every generated file under ``root``; return those whose content changed."""
    changed = []
    for relative, render in generated_files().items():
        target = root / relative
        text = render()
        if not target.exists() or target.read_text() != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            changed.append(relative)
    return changed


def main(argv: list[str]) -> int:
    if argv[:1] == ["--write"]:
        root = Path(argv[1]) if len(argv) > 1 else Path.cwd()
        for path in write_all(root):
            print(f"wrote {path}")
        return 0
    print(render_yaml(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
