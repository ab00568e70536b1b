"""Decoding records into events (pure: no broker needed for the shape of a record)."""

from __future__ import annotations

import json

import pytest

from mimis_platform.envelope import Event, UndecodableEvent, from_kafka, to_kafka


def _event() -> Event:
    return Event(type="catalog.provider.registered.v1", source="/mimis/catalog", partition_key="p1",
                 data={"provider_id": "p1"})


def test_a_binary_record_round_trips_with_its_identity() -> None:
    event = _event()
    record = to_kafka(event)
    decoded = from_kafka(record.key, record.value, record.headers)
    assert (decoded.id, decoded.source, decoded.type, decoded.data) == (event.id, event.source, event.type, event.data)


def test_a_record_without_an_id_is_refused_rather_than_given_a_random_one() -> None:
    record = to_kafka(_event())
    headers = [(k, v) for k, v in record.headers if k != "ce_id"]
    with pytest.raises(UndecodableEvent, match="id"):
        from_kafka(record.key, record.value, headers)
    structured = json.dumps({"specversion": "1.0", "type": "catalog.provider.registered.v1",
                             "source": "/mimis/catalog", "data": {"provider_id": "p1"}}).encode()
    with pytest.raises(UndecodableEvent, match="id"):
        from_kafka(b"p1", structured, [("content-type", b"application/cloudevents+json")])
    with_id = json.dumps({"specversion": "1.0", "id": "e-1", "type": "catalog.provider.registered.v1",
                          "source": "/mimis/catalog", "data": {"provider_id": "p1"}}).encode()
    assert from_kafka(b"p1", with_id, [("content-type", b"application/cloudevents+json")]).id == "e-1"
