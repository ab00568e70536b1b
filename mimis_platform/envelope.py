"""The event envelope: CloudEvents 1.0 over Kafka, binary content mode.

Each CloudEvents attribute travels as a ``ce_<name>`` header, ``content-type`` carries
``datacontenttype``, the record value is the JSON data and the record key is the
``partitionkey`` extension (the aggregate id), so one aggregate's events stay ordered.
Structured mode (``content-type: application/cloudevents+json``) is accepted on receipt, so a
provider's integrator may use either. Trace context travels as the CloudEvents distributed
tracing extension (``ce_traceparent``) and as the plain W3C ``traceparent`` header that
OpenTelemetry propagators read.

The ``cloudevents`` package does the encoding; this module only fixes MIMIS's choices.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

JSON = "application/json"
STRUCTURED_PREFIX = "application/cloudevents"
TRACE_HEADERS = ("traceparent", "tracestate")
_FORMAT = JSONFormat()


class UndecodableEvent(ValueError):
    """A Kafka record that is not a CloudEvent MIMIS can read; the message says what is wrong."""


@dataclass(frozen=True)
class Event:
    """One domain event in its envelope. ``data`` is what the type's JSON Schema describes."""

    type: str
    source: str
    partition_key: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    trace_context: Mapping[str, str] = field(default_factory=dict)

    def to_document(self) -> dict[str, Any]:
        """The event as stored (outbox, inbox, dead letters): plain BSON-friendly values."""
        return {
            "id": self.id, "type": self.type, "source": self.source, "partition_key": self.partition_key,
            "subject": self.subject, "time": self.time, "data": self.data,
            "trace_context": dict(self.trace_context),
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Event:
        time = doc["time"]
        if time.tzinfo is None:  # BSON dates come back naive, in UTC
            time = time.replace(tzinfo=UTC)
        return cls(
            type=doc["type"], source=doc["source"], partition_key=doc["partition_key"], data=doc["data"],
            id=doc["id"], time=time, subject=doc.get("subject"), trace_context=doc.get("trace_context") or {},
        )


@dataclass(frozen=True)
class KafkaRecord:
    """What goes over the wire: key, value and headers as the Kafka clients want them."""

    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def to_kafka(event: Event) -> KafkaRecord:
    attributes: dict[str, Any] = {
        "id": event.id,
        "type": event.type,
        "source": event.source,
        "specversion": "1.0",
        "time": event.time,
        "datacontenttype": JSON,
        "partitionkey": event.partition_key,
    }
    if event.subject:
        attributes["subject"] = event.subject
    for name in TRACE_HEADERS:
        if name in event.trace_context:
            attributes[name] = event.trace_context[name]
    message = ce_kafka.to_binary(CloudEvent(attributes, event.data), _FORMAT)
    headers = list(message.headers.items())
    headers += [(name, event.trace_context[name].encode()) for name in TRACE_HEADERS if name in event.trace_context]
    key = message.key.encode() if isinstance(message.key, str) else (message.key or b"")
    return KafkaRecord(key=key, value=message.value, headers=headers)


def from_kafka(key: bytes | None, value: bytes | None, headers: Iterable[tuple[str, bytes]]) -> Event:
    """Decode a record in binary or structured mode; raise :class:`UndecodableEvent` if impossible."""
    header_map: dict[str, bytes] = {}
    for name, raw in headers:
        if raw is not None:  # Kafka allows null header values; none of ours are null
            header_map[name.lower()] = raw
    content_type = header_map.get("content-type", b"").decode("latin-1")
    message = ce_kafka.KafkaMessage(
        headers={k: v for k, v in header_map.items() if k.startswith("ce_") or k == "content-type"},
        key=key, value=value or b"",
    )
    try:
        if content_type.startswith(STRUCTURED_PREFIX):
            # The library makes up a random id when there is none; an event's identity must come
            # from its producer, or each redelivery would look new to the consumer's inbox.
            if not isinstance((envelope := json.loads(value or b"null")), dict) or not envelope.get("id"):
                raise UndecodableEvent("missing CloudEvents attributes: id")
            ce = ce_kafka.from_structured(message, _FORMAT)
        else:
            if "ce_specversion" not in header_map:
                raise UndecodableEvent("not a CloudEvent: no ce_specversion header and not structured mode")
            if not header_map.get("ce_id"):
                raise UndecodableEvent("missing CloudEvents attributes: id (no ce_id header)")
            ce = ce_kafka.from_binary(message, _FORMAT)
    except UndecodableEvent:
        raise
    except Exception as exc:  # the library raises many kinds; they all mean "cannot read this"
        raise UndecodableEvent(f"cannot decode CloudEvent: {type(exc).__name__}: {exc}") from exc
    attributes = ce.get_attributes()
    if attributes.get("specversion") != "1.0":
        raise UndecodableEvent(f"unsupported CloudEvents specversion {attributes.get('specversion')!r}")
    data = ce.get_data()
    if not isinstance(data, dict):
        raise UndecodableEvent(f"event data must be a JSON object, got {type(data).__name__}")
    missing = [a for a in ("id", "type", "source") if not attributes.get(a)]
    if missing:
        raise UndecodableEvent(f"missing CloudEvents attributes: {', '.join(missing)}")
    partition_key = attributes.get("partitionkey") or (key.decode("utf-8", "replace") if key else "")
    trace_context = {}
    for name in TRACE_HEADERS:
        value = header_map.get(name) or header_map.get(f"ce_{name}")
        if value:
            trace_context[name] = value.decode("latin-1")
    time = attributes.get("time") or datetime.now(UTC)
    return Event(
        type=str(attributes["type"]), source=str(attributes["source"]), partition_key=str(partition_key),
        data=data, id=str(attributes["id"]), time=time, subject=attributes.get("subject"),
        trace_context=trace_context,
    )


def headers_to_dict(headers: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    return {name: raw.decode("latin-1") for name, raw in headers}
