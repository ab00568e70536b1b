"""Contracts: schemas and topic registry are consistent, and the k8s topics file is generated from them."""

from pathlib import Path

import pytest

from mimis_platform.contracts import CONTRACTS, ContractRegistry, ContractViolation, UnknownEventType
from mimis_platform.contracts.k8s import render_yaml
from mimis_platform.contracts.topics import TopicRegistry, TopicSpec

ROOT = Path(__file__).resolve().parents[2]


def test_every_event_type_has_a_versioned_schema_and_a_topic() -> None:
    for event_type in CONTRACTS.schemas:
        assert event_type.split(".")[-1].startswith("v")
        assert CONTRACTS.topic_for(event_type).name


def test_a_violation_names_the_field_and_why() -> None:
    with pytest.raises(ContractViolation) as caught:
        CONTRACTS.validate(
            "catalog.credential.drafted.v1",
            {
                "micro_credential_id": "mc-1",
                "version": 1,
                "provider_id": "p",
                "title": {"sv": "x"},
                "drafted_at": "not a date",
            },
        )
    assert caught.value.path == "/drafted_at" and "date-time" in caught.value.reason


def test_unknown_types_are_refused() -> None:
    with pytest.raises(UnknownEventType):
        CONTRACTS.validate("catalog.credential.vanished.v1", {})


def test_a_topic_declaring_a_type_without_schema_is_refused() -> None:
    with pytest.raises(ValueError, match="no schema"):
        ContractRegistry({}, TopicRegistry((TopicSpec("x.y", "d", "id", ("x.y.happened.v1",), ("x",)),)))


def test_an_event_type_on_two_topics_is_refused() -> None:
    with pytest.raises(ValueError, match="declared on"):
        TopicRegistry((TopicSpec("a", "d", "id", ("x.y.v1",), ("x",)), TopicSpec("b", "d", "id", ("x.y.v1",), ("x",))))


def test_the_kubernetes_topics_file_is_generated_from_the_registry() -> None:
    committed = (ROOT / "deploy/k8s/base/kafka/topics.yaml").read_text()
    assert committed == render_yaml(), (
        "run: .venv/bin/python -m mimis_platform.contracts.k8s > deploy/k8s/base/kafka/topics.yaml"
    )
    for topic in CONTRACTS.topics:
        assert f'"topicName": "{topic.name}"' in committed and f'"topicName": "{topic.dlq}"' in committed
