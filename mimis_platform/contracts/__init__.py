"""Contracts: every event type's versioned JSON Schema and the topic registry, in one place.

Producers validate before publishing and consumers validate on receipt, against the same
schema file ``events/<event type>.json``; parts several events share (a micro-credential's
content) live in ``shared/`` and are referenced by ``$id``. An event type ends in its major version (``...v1``);
a breaking change is a new type (``...v2``) published beside the old one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from mimis_platform.contracts.topics import TOPICS, TopicRegistry, TopicSpec

__all__ = [
    "CONTRACTS",
    "TOPICS",
    "ContractRegistry",
    "ContractViolation",
    "TopicRegistry",
    "TopicSpec",
    "UnknownEventType",
]

EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+\.v[1-9][0-9]*$")


class ContractViolation(ValueError):
    """An event's data does not match its type's schema; the message names the field and why."""

    def __init__(self, event_type: str, path: str, message: str) -> None:
        self.event_type, self.path, self.reason = event_type, path, message
        super().__init__(f"{event_type}: {path}: {message}")


class UnknownEventType(ValueError):
    def __init__(self, event_type: str) -> None:
        self.event_type = event_type
        super().__init__(f"unknown event type {event_type!r}: no schema in the contracts")


class ContractRegistry:
    """Event schemas and the topics that carry them."""

    def __init__(self, schemas: Mapping[str, dict[str, Any]], topics: TopicRegistry,
                 shared: Mapping[str, dict[str, Any]] | None = None) -> None:
        # Shared documents (``shared/*.json``) are referenced by their ``$id`` from event schemas.
        self.shared = dict(shared or {})
        self._refs: Registry[Any] = Registry().with_resources(
            (schema["$id"], Resource.from_contents(schema)) for schema in self.shared.values()
        )
        for event_type, schema in schemas.items():
            if not EVENT_TYPE_PATTERN.match(event_type):
                raise ValueError(f"event type {event_type!r} must be dotted lower-case and end in .v<N>")
            Draft202012Validator.check_schema(schema)
        for topic in topics:
            for event_type in topic.event_types:
                if event_type not in schemas:
                    raise ValueError(f"topic {topic.name} declares {event_type} but no schema exists for it")
        self.schemas = dict(schemas)
        self.topics = topics

    @classmethod
    def from_directory(cls, directory: Path | Any, topics: TopicRegistry) -> ContractRegistry:
        """``directory/events/<type>.json`` per event type, ``directory/shared/*.json`` for shared parts."""
        def load(folder: Any) -> dict[str, dict[str, Any]]:
            return {entry.name.removesuffix(".json"): json.loads(entry.read_text(encoding="utf-8"))
                    for entry in folder.iterdir() if entry.name.endswith(".json")}

        return cls(load(directory / "events"), topics, load(directory / "shared"))

    @cached_property
    def _validators(self) -> dict[str, Draft202012Validator]:
        return {
            t: Draft202012Validator(s, format_checker=Draft202012Validator.FORMAT_CHECKER, registry=self._refs)
            for t, s in self.schemas.items()
        }

    def validate(self, event_type: str, data: Any) -> None:
        """Raise :class:`ContractViolation` (or :class:`UnknownEventType`) unless ``data`` fits."""
        validator = self._validators.get(event_type)
        if validator is None:
            raise UnknownEventType(event_type)
        error = best_match(validator.iter_errors(data))
        if error is not None:
            path = "/" + "/".join(str(p) for p in error.absolute_path)
            raise ContractViolation(event_type, path, error.message)

    def topic_for(self, event_type: str) -> TopicSpec:
        if event_type not in self.schemas:
            raise UnknownEventType(event_type)
        return self.topics.topic_for(event_type)

    def extended(self, schemas: Mapping[str, dict[str, Any]], topics: list[TopicSpec]) -> ContractRegistry:
        """A registry with more contracts (tests declare their own beside the product's)."""
        return ContractRegistry({**self.schemas, **schemas}, self.topics.extended(topics), self.shared)


CONTRACTS = ContractRegistry.from_directory(resources.files(__name__), TOPICS)
