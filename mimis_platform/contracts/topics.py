"""The topic registry: every Kafka topic MIMIS uses, declared once.

Start-up code creates these topics (and their ``.dlq`` twins); the Kubernetes ``KafkaTopic``
resources and the per-service ACLs are generated from the same declarations.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class TopicSpec:
    """One topic: who writes it, who reads it, what its records are keyed by, how long they stay."""

    name: str
    description: str
    key: str  # the aggregate id every record is keyed by (= CloudEvents ``partitionkey``)
    event_types: tuple[str, ...]
    producers: tuple[str, ...]
    consumers: tuple[str, ...] = ()
    partitions: int = 6
    retention_ms: int = 30 * DAY_MS
    dlq_retention_ms: int = 30 * DAY_MS
    replication_factor: int = 3  # production; the local broker has one node
    # A consumer reading this topic in a consumer group of its own, (service, group); by default a
    # service's group id is its name. The group's ACL is generated from this.
    own_groups: tuple[tuple[str, str], ...] = ()

    def group_of(self, service: str) -> str:
        return dict(self.own_groups).get(service, service)

    @property
    def dlq(self) -> str:
        return f"{self.name}.dlq"


@dataclass(frozen=True)
class TopicRegistry:
    topics: tuple[TopicSpec, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        names = [t.name for t in self.topics]
        if len(names) != len(set(names)):
            raise ValueError(f"a topic is declared twice in the registry: {sorted(names)}")
        owners: dict[str, str] = {}
        for topic in self.topics:
            for event_type in topic.event_types:
                if event_type in owners:
                    raise ValueError(f"event type {event_type} is declared on {owners[event_type]} and {topic.name}")
                owners[event_type] = topic.name

    def __iter__(self) -> Iterator[TopicSpec]:
        return iter(self.topics)

    def get(self, name: str) -> TopicSpec:
        for topic in self.topics:
            if topic.name == name:
                return topic
        raise KeyError(f"topic {name!r} is not in the registry")

    def topic_for(self, event_type: str) -> TopicSpec:
        for topic in self.topics:
            if event_type in topic.event_types:
                return topic
        raise KeyError(f"event type {event_type!r} is not declared on any topic")

    def all_names(self) -> list[str]:
        """Every topic to create, each with its dead-letter twin."""
        return [name for t in self.topics for name in (t.name, t.dlq)]

    def groups_of(self, service: str) -> list[str]:
        """The consumer groups ``service`` reads in (its name, and any group of its own a topic names)."""
        return list(dict.fromkeys(t.group_of(service) for t in self.topics if service in t.consumers))

    def consumed_by(self, service: str) -> list[TopicSpec]:
        return [t for t in self.topics if service in t.consumers]

    def produced_by(self, service: str) -> list[TopicSpec]:
        return [t for t in self.topics if service in t.producers]

    def extended(self, extra: Iterable[TopicSpec]) -> TopicRegistry:
        return TopicRegistry(self.topics + tuple(extra))


TOPICS = TopicRegistry(
    (
        TopicSpec(
            name="catalog.micro-credentials",
            description="Lifecycle of micro-credential definitions in the catalogue.",
            key="micro_credential_id",
            event_types=(
                "catalog.credential.drafted.v1",
                "catalog.credential.submitted.v1",
                "catalog.credential.status-changed.v1",
                "catalog.credential.published.v1",
            ),
            producers=("catalog",),
            consumers=("quality", "issuance", "notifications"),
            partitions=6,
            retention_ms=90 * DAY_MS,
        ),
        TopicSpec(
            name="catalog.providers",
            description="Providers registered in the catalogue and changes to their details.",
            key="provider_id",
            event_types=("catalog.provider.registered.v1", "catalog.provider.updated.v1"),
            producers=("catalog",),
            consumers=("issuance", "notifications"),
            partitions=3,
            retention_ms=365 * DAY_MS,
        ),
        TopicSpec(
            name="quality.reviews",
            description="Reviews of micro-credential versions by the quality board: opened and decided.",
            key="micro_credential_id",
            event_types=("quality.review.opened.v1", "quality.review.decided.v1"),
            producers=("quality",),
            consumers=("catalog", "notifications", "gateway"),  # gateway: live GraphQL subscriptions
            partitions=6,
            retention_ms=365 * DAY_MS,
        ),
        TopicSpec(
            name="issuance.credentials",
            description="Credentials issued, revoked, suspended and reinstated. No personal data: learners appear "
            "only as learner_ref.",
            key="credential_id",
            event_types=("issuance.credential.issued.v1", "issuance.credential.revoked.v1",
                         "issuance.credential.suspended.v1", "issuance.credential.reinstated.v1"),
            producers=("issuance",),
            consumers=("notifications", "gateway"),  # gateway: live GraphQL subscriptions
            partitions=6,
            retention_ms=365 * DAY_MS,
        ),
        TopicSpec(
            name="provider.assessments",
            description="Assessment results from providers' own systems, which issuance turns into signed credentials. "
            "Since v2 the learner appears only as the pseudonymous learner_ref the provider got when it "
            "registered the learner over HTTPS, so no name, e-mail address or personal identity number is "
            "written to the topic or its dead letters. Kept long enough to ride out an outage of issuance: 7 "
            "days, its dead letters 14 days for the provider to correct and resend. Each record is signed by its "
            "provider (Standard Webhooks headers); issuance dead-letters any it cannot verify, and every record "
            "of the retired v1 (with the learner removed).",
            key="provider_event_id",
            event_types=("provider.assessment.recorded.v1", "provider.assessment.recorded.v2"),
            producers=("provider-systems",),
            consumers=("issuance",),
            own_groups=(("issuance", "issuance-assessments"),),  # batched, signature-checking consumer
            partitions=6,
            retention_ms=7 * DAY_MS,
            dlq_retention_ms=14 * DAY_MS,
        ),
        TopicSpec(
            name="privacy.erasures",
            description="Learners' erasure requests (GDPR Art. 17), published by issuance, which owns the learner "
            "record, in the transaction that erased its own part. Every other service holding data about learners "
            "consumes it, erases once and confirms on privacy.erasure-confirmations. Only pseudonymous ids.",
            key="learner_ref",
            event_types=("privacy.learner.erasure-requested.v1",),
            producers=("issuance",),
            consumers=("notifications",),
            partitions=3,
            retention_ms=30 * DAY_MS,
        ),
        TopicSpec(
            name="privacy.erasure-confirmations",
            description="Each service's confirmation that it erased a learner for one request; issuance reports the "
            "request complete when every consumer of privacy.erasures has confirmed. Only pseudonymous ids.",
            key="learner_ref",
            event_types=("privacy.learner.erasure-confirmed.v1",),
            producers=("notifications",),
            consumers=("issuance",),
            partitions=3,
            retention_ms=30 * DAY_MS,
        ),
    )
)
