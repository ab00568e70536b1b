"""Strimzi ``KafkaTopic`` resources generated from the topic registry (``python -m
mimis_platform.contracts.k8s > deploy/k8s/base/kafka/topics.yaml``); a test keeps the file true."""

from __future__ import annotations

import json
from typing import Any

from mimis_platform.contracts.topics import TOPICS, TopicRegistry


def kafka_topic_resources(registry: TopicRegistry = TOPICS, cluster: str = "mimis") -> list[dict[str, Any]]:
    resources = []
    for spec in registry:
        for name, retention, role in (
            (spec.name, spec.retention_ms, "events"),
            (spec.dlq, spec.dlq_retention_ms, "dead-letters"),
        ):
            resources.append(
                {
                    "apiVersion": "kafka.strimzi.io/v1beta2",
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


if __name__ == "__main__":
    print(render_yaml(), end="")
