"""Kafka connections the services share: how to reach the broker (address, TLS, SASL), topic
creation from the registry, the producer.

Locally the broker is plaintext; in production (Strimzi) every service connects over TLS with
its own SCRAM-SHA-512 user, whose ACLs allow exactly the topics the registry gives it, and
topics come from KafkaTopic resources rather than from the services. One
:class:`KafkaConnection` carries all of that to every client a service opens: the producer of
the outbox relay, the consumer group, the dead-letter producer, the admin client and the
readiness probe.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from mimis_platform.contracts.topics import TopicRegistry, TopicSpec

if TYPE_CHECKING:
    from mimis_platform.settings import ServiceSettings

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
_SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


class KafkaSettingsError(ValueError):
    """The Kafka connection settings contradict each other (the message says how)."""


@dataclass(frozen=True)
class KafkaConnection:
    """Where the broker is and how to authenticate to it. The password never shows in a repr."""

    bootstrap_servers: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None  # the cluster CA (Strimzi's <cluster>-cluster-ca-cert); None: system CAs
    create_topics: bool = True  # False where topics are managed outside the services (KafkaTopic resources)

    def __post_init__(self) -> None:
        if not self.bootstrap_servers.strip():
            raise KafkaSettingsError("kafka_bootstrap_servers is empty")
        sasl = self.security_protocol.startswith("SASL_")
        if sasl and not (self.sasl_mechanism and self.sasl_username and self.sasl_password):
            raise KafkaSettingsError(
                f"security protocol {self.security_protocol} needs kafka_sasl_mechanism, kafka_sasl_username and "
                "kafka_sasl_password"
            )
        if not sasl and (self.sasl_mechanism or self.sasl_username or self.sasl_password):
            raise KafkaSettingsError(
                f"SASL credentials are set but the security protocol is {self.security_protocol}; "
                "use SASL_SSL (or SASL_PLAINTEXT) to send them"
            )
        if self.ssl_cafile and not self.uses_tls:
            raise KafkaSettingsError(
                f"kafka_ssl_cafile is set but the security protocol is {self.security_protocol}; use SSL or SASL_SSL"
            )

    @classmethod
    def of(cls, value: KafkaConnection | str) -> KafkaConnection:
        """A plain ``host:port`` string is a plaintext connection (the local stack, tests, tools)."""
        return value if isinstance(value, KafkaConnection) else cls(value)

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> KafkaConnection:
        password = settings.kafka_sasl_password
        return cls(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            security_protocol=settings.kafka_security_protocol,
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_username=settings.kafka_sasl_username,
            sasl_password=password.get_secret_value() if password is not None else None,
            ssl_cafile=settings.kafka_ssl_cafile,
            create_topics=settings.kafka_create_topics,
        )

    @classmethod
    def for_operator(cls, bootstrap_servers: str, env: Mapping[str, str]) -> KafkaConnection:
        """The ops user's connection (the runbook's tools and the CLI): with
        ``MIMIS_OPS_KAFKA_SASL_USERNAME`` set, SASL_SSL with SCRAM-SHA-512 against the cluster CA
        in ``MIMIS_OPS_KAFKA_SSL_CAFILE``, as Strimzi's production listener wants; else plaintext."""
        username = env.get("MIMIS_OPS_KAFKA_SASL_USERNAME")
        if not username:
            return cls(bootstrap_servers)
        return cls(bootstrap_servers, security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                   sasl_username=username, sasl_password=env.get("MIMIS_OPS_KAFKA_SASL_PASSWORD"),
                   ssl_cafile=env.get("MIMIS_OPS_KAFKA_SSL_CAFILE"))

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        # Verifies the broker's certificate and host name (aiokafka's helper: CERT_REQUIRED).
        return create_ssl_context(cafile=self.ssl_cafile) if self.uses_tls else None

    def security(self) -> BaseSecurity | None:
        """The same settings as FastStream's security object (for ``KafkaBroker``)."""
        if self.security_protocol == "PLAINTEXT":
            return None
        context, tls = self.ssl_context(), self.uses_tls
        if self.sasl_mechanism is None:
            return BaseSecurity(ssl_context=context, use_ssl=tls)
        assert self.sasl_username is not None and self.sasl_password is not None  # checked above
        return _SASL[self.sasl_mechanism](self.sasl_username, self.sasl_password, ssl_context=context, use_ssl=tls)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's clients, derived by FastStream's own mapping so that the
        consumer group and every other client connect the same way."""
        return {"bootstrap_servers": self.bootstrap_servers, **parse_security(self.security())}


def new_topics(specs: Iterable[TopicSpec], replication_factor: int = 1) -> list[NewTopic]:
    topics = []
    for spec in specs:
        topics.append(NewTopic(spec.name, spec.partitions, replication_factor,
                               topic_configs={"retention.ms": str(spec.retention_ms)}))
        topics.append(NewTopic(spec.dlq, spec.partitions, replication_factor,
                               topic_configs={"retention.ms": str(spec.dlq_retention_ms)}))
    return topics


async def ensure_topics(kafka: KafkaConnection | str, registry: TopicRegistry | Iterable[TopicSpec],
                        replication_factor: int = 1) -> list[str]:
    """Create every registry topic (and its DLQ) that does not exist yet; return those created.

    Called at every start-up and after a reconnect: a broker that lost its topics must not
    silently auto-create them with default settings. Does nothing where the connection says
    topics are managed elsewhere (production: Strimzi KafkaTopics; the services' users may not
    create topics).
    """
    kafka = KafkaConnection.of(kafka)
    if not kafka.create_topics:
        return []
    admin = AIOKafkaAdminClient(**kafka.client_options(), request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in new_topics(registry, replication_factor) if t.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another replica created them first
                await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()


def new_producer(kafka: KafkaConnection | str, **overrides: object) -> AIOKafkaProducer:
    """acks=all; no idempotent producer (the local broker refuses InitProducerId, see DESIGN.md),
    so duplicates after ambiguous failures are possible and every consumer dedupes."""
    options: dict[str, object] = {
        **KafkaConnection.of(kafka).client_options(),
        "acks": "all",
        "enable_idempotence": False,
        "linger_ms": 5,
        "max_batch_size": 256 * 1024,
        "request_timeout_ms": 10_000,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)
