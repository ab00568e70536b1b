"""Kafka over TLS (and the SASL settings) for every client a service opens.

Production connects to Strimzi's listener with SASL_SSL: TLS against the cluster CA and the
service's own SCRAM-SHA-512 user. Over the wire here: a real broker behind a real TLS endpoint
(a TLS-terminating TCP relay in front of Tansu, which advertises the relay's address), reached by
the topic check, the outbox relay's producer, FastStream's consumer group, the dead-letter
producer and the readiness probe, all built from one :class:`KafkaConnection`; a certificate
from another CA and a plaintext client are refused with a clear error. The local broker cannot
check SCRAM passwords (its user store needs an authenticated admin first), so SASL is covered
by the settings mapping below, which is FastStream's own, not by an exchange on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from mimis_platform.consumer import EventConsumer
from mimis_platform.contracts import ContractRegistry
from mimis_platform.contracts.topics import TopicRegistry, TopicSpec
from mimis_platform.envelope import Event
from mimis_platform.health import kafka_check
from mimis_platform.kafka import KafkaConnection, KafkaSettingsError, ensure_topics, new_producer
from mimis_platform.localstack import HOST, ServerProcess, _poll_until, free_port, tansu_binary
from mimis_platform.outbox import Outbox, OutboxRelay, in_transaction
from mimis_platform.settings import ServiceSettings

# -- certificates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Authority:
    ca_file: Path
    cert_file: Path
    key_file: Path


def _authority(folder: Path, name: str) -> Authority:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "broker")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    files = Authority(folder / "ca.crt", folder / "broker.crt", folder / "broker.key")
    files.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


# -- a broker reachable only over TLS ----------------------------------------------------------


@dataclass
class TlsBroker:
    port: int
    ca_file: Path
    other_ca_file: Path  # a CA that did not sign the broker's certificate

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def connection(self, **options: Any) -> KafkaConnection:
        return KafkaConnection(self.address, security_protocol="SSL", ssl_cafile=str(self.ca_file), **options)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@pytest.fixture(scope="module")
async def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TlsBroker]:
    folder = tmp_path_factory.mktemp("kafka-tls")
    authority, other = _authority(folder / "cluster", "cluster"), _authority(folder / "other", "other")
    inner, outer = free_port(), free_port()
    # Tansu listens in plaintext on `inner` and tells clients to come back through the TLS endpoint.
    broker = ServerProcess(
        name="Kafka broker behind TLS",
        port=inner,
        argv=[str(tansu_binary()), "broker", "--listener-url", f"tcp://{HOST}:{inner}",
              "--advertised-listener-url", f"tcp://{HOST}:{outer}", "--storage-engine", "memory://tansu/"],
        log_path=folder / "tansu.log",
    )
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(authority.cert_file, authority.key_file)
    connections: set[asyncio.Future[Any]] = set()

    async def relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(HOST, inner)
        except OSError:
            client_writer.close()
            return
        both = asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))
        connections.add(both)
        try:
            await both
        finally:
            connections.discard(both)

    broker.start()
    endpoint = await asyncio.start_server(relay, HOST, outer, ssl=server_tls)
    try:
        ready = kafka_check(KafkaConnection(f"{HOST}:{outer}", security_protocol="SSL",
                                            ssl_cafile=str(authority.ca_file)))
        try:
            await _poll_until(broker, 60.0, ready)  # the broker answers through the TLS endpoint
        finally:
            await ready.aclose()
        yield TlsBroker(outer, authority.ca_file, other.ca_file)
    finally:
        endpoint.close()
        for task in list(connections):
            task.cancel()
        await asyncio.to_thread(broker.stop)


def _contracts(name: str) -> ContractRegistry:
    topic = TopicSpec(name, "TLS test events", "thing_id", (f"{name}.happened.v1",), ("tests",), ("tests",),
                      partitions=2)
    schema = {"type": "object", "required": ["thing_id"], "properties": {"thing_id": {"type": "string"}}}
    return ContractRegistry({f"{name}.happened.v1": schema}, TopicRegistry((topic,)))


# -- over the wire -------------------------------------------------------------------------------


async def test_every_client_of_a_service_works_over_tls(tls_broker: TlsBroker, db: Any) -> None:
    name = f"tls-{uuid.uuid4().hex[:8]}"
    contracts = _contracts(name)
    kafka = tls_broker.connection()

    check = kafka_check(kafka)
    try:
        await check()  # the readiness probe's metadata request, over TLS
    finally:
        await check.aclose()
    assert sorted(await ensure_topics(kafka, contracts.topics)) == sorted([name, f"{name}.dlq"])

    outbox, relay = Outbox(db, contracts), OutboxRelay(db, contracts, kafka, idle_seconds=0.05)
    await outbox.ensure_indexes()
    handled: list[str] = []
    done = asyncio.Event()

    async def on_happened(event: Event, session: Any) -> None:
        handled.append(event.data["thing_id"])
        if len(handled) == 3:
            done.set()

    consumer = EventConsumer(service="tests", group_id=f"{name}-group", kafka=kafka, client=db.client,
                             db=db, contracts=contracts, routes={f"{name}.happened.v1": on_happened},
                             session_timeout_ms=6000, heartbeat_interval_ms=1000)
    relay_task = asyncio.create_task(relay.run())
    await consumer.start()
    try:
        for i in range(2):
            await write(outbox, db, name, f"t{i}")
        # A malformed record: the consumer's dead-letter producer writes it to the DLQ over TLS too.
        producer = new_producer(kafka)
        await producer.start()
        try:
            await producer.send_and_wait(name, b"not an event", key=b"x")
        finally:
            await producer.stop()
        await write(outbox, db, name, "t2")
        await asyncio.wait_for(done.wait(), 60)
        assert sorted(handled) == ["t0", "t1", "t2"]
        dead = await _read_all(kafka, f"{name}.dlq", expect=1)
        assert [r.value for r in dead] == [b"not an event"]
    finally:
        await consumer.stop()
        await relay.stop()
        await relay_task


async def write(outbox: Outbox, db: Any, name: str, thing: str) -> None:
    event = Event(type=f"{name}.happened.v1", source="urn:mimis:tests", partition_key=thing, data={"thing_id": thing})
    await in_transaction(db.client, lambda session: outbox.add(event, session))


async def _read_all(kafka: KafkaConnection, topic: str, expect: int) -> list[Any]:
    reader = AIOKafkaConsumer(topic, **kafka.client_options(), group_id=None, auto_offset_reset="earliest",
                              enable_auto_commit=False)
    await reader.start()
    try:
        records: list[Any] = []
        async with asyncio.timeout(60):
            while len(records) < expect:
                batch = await reader.getmany(timeout_ms=500)
                records.extend(r for rs in batch.values() for r in rs)
        return records
    finally:
        await reader.stop()


async def test_a_broker_certificate_from_another_authority_is_refused(tls_broker: TlsBroker) -> None:
    check = kafka_check(KafkaConnection(tls_broker.address, security_protocol="SSL",
                                        ssl_cafile=str(tls_broker.other_ca_file)), request_timeout_ms=3000)
    try:
        with pytest.raises(Exception, match=r"no broker answered at 127\.0\.0\.1.*certificate verify failed"):
            await check()
    finally:
        await check.aclose()


async def test_a_plaintext_client_gets_nothing_from_the_tls_listener(tls_broker: TlsBroker) -> None:
    check = kafka_check(KafkaConnection(tls_broker.address), request_timeout_ms=3000)
    try:
        with pytest.raises(Exception, match="no broker answered"):
            await check()
    finally:
        await check.aclose()


async def test_topic_creation_can_be_left_to_the_cluster(tls_broker: TlsBroker) -> None:
    name = f"unmanaged-{uuid.uuid4().hex[:8]}"
    assert await ensure_topics(tls_broker.connection(create_topics=False), _contracts(name).topics) == []
    assert sorted(await ensure_topics(tls_broker.connection(), _contracts(name).topics)) == [name, f"{name}.dlq"]


# -- settings (no I/O) ------------------------------------------------------------------------


def test_production_settings_become_sasl_ssl_scram_for_every_client(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ca = _authority(tmp_path, "cluster").ca_file
    env = {
        "ENVIRONMENT": "production", "AUTH_JWKS": '{"keys": []}', "SECRET_KEY": "a real secret",
        "KAFKA_BOOTSTRAP_SERVERS": "mimis-kafka-bootstrap:9093", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": "catalog",
        "KAFKA_SASL_PASSWORD": "from-the-strimzi-secret", "KAFKA_SSL_CAFILE": str(ca), "KAFKA_CREATE_TOPICS": "false",
    }
    for key, value in env.items():
        monkeypatch.setenv(f"MIMIS_{key}", value)
    kafka = ServiceSettings().kafka_connection()
    options = kafka.client_options()
    assert options["bootstrap_servers"] == "mimis-kafka-bootstrap:9093"
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("catalog", "from-the-strimzi-secret")
    context: ssl.SSLContext = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert kafka.create_topics is False
    assert "from-the-strimzi-secret" not in repr(kafka)
    assert type(kafka.security()).__name__ == "SASLScram512"  # what FastStream's KafkaBroker is given


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"security_protocol": "SASL_SSL"}, "needs kafka_sasl_mechanism, kafka_sasl_username and kafka_sasl_password"),
        ({"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "u"},
         "needs kafka_sasl_mechanism"),
        ({"sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "u", "sasl_password": "p"},
         "SASL credentials are set but the security protocol is PLAINTEXT"),
        ({"ssl_cafile": "/etc/ca.crt"}, "kafka_ssl_cafile is set but the security protocol is PLAINTEXT"),
    ],
)
def test_contradictory_kafka_settings_are_refused_with_the_reason(options: dict[str, Any], message: str) -> None:
    with pytest.raises(KafkaSettingsError, match=message):
        KafkaConnection("broker:9093", **options)


def test_production_refuses_a_plaintext_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMIS_ENVIRONMENT", "production")
    monkeypatch.setenv("MIMIS_AUTH_JWKS", '{"keys": []}')
    monkeypatch.setenv("MIMIS_SECRET_KEY", "a real secret")
    with pytest.raises(ValidationError, match="production connects to Kafka with SASL_SSL"):
        ServiceSettings()
