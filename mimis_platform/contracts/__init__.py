"""Contracts: every event type's versioned JSON Schema and the topic registry, in one place.

Producers validate before publishing and consumers validate on receipt, against the same
schema file ``events/<event type>.json``; parts several events share (a micro-credential's
content) live in ``shared/`` and are referenced by ``$id``. An event type ends in its major version (``...v1``);
a breaking change is a new type (``...v2``) published beside the old one.

Personal data is marked in the schemas: ``"x-personal-data"`` on a property says what kind it is
(:data:`PERSONAL_DATA_KINDS`), and ``"x-retired": "<date>"`` on a schema says the type is no
longer accepted. :meth:`ContractRegistry.personal_fields` lists the marked fields of a type by
JSON pointer (``/learner/email``; ``*`` for every item of an array), and
:meth:`ContractRegistry.redact_personal` removes the ``direct`` ones from an event's data, which
is what dead letters keep. PRIVACY.md lists every marked field; a test holds the two together.
"""

from __future__ import annotations

import copy
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
from referencing.jsonschema import DRAFT202012

from mimis_platform.contracts.topics import TOPICS, TopicRegistry, TopicSpec

__all__ = [
    "CONTRACTS",
    "PERSONAL_DATA",
    "PERSONAL_DATA_KINDS",
    "REMOVED_PERSONAL_DATA",
    "TOPICS",
    "ContractRegistry",
    "ContractViolation",
    "TopicRegistry",
    "TopicSpec",
    "UnknownEventType",
]

EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+\.v[1-9][0-9]*$")

PERSONAL_DATA = "x-personal-data"
RETIRED = "x-retired"
PERSONAL_DATA_KINDS = ("direct", "pseudonym", "about-person")
"""Strongest first. ``direct`` identifies a person by itself (name, e-mail address, date of birth,
personal identity number, a contact person's phone); ``pseudonym`` identifies a person only
with a key MIMIS keeps apart (``learner_ref``); ``about-person`` says something about a person
and is personal data only through a pseudonym or direct field beside it (a grade, a result)."""
REMOVED_PERSONAL_DATA = "[removed: personal data]"


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
        for name, document in [*schemas.items(), *self.shared.items()]:
            for marking in _markings(document):
                if marking not in PERSONAL_DATA_KINDS:
                    raise ValueError(f"{name}: {PERSONAL_DATA} must be one of {PERSONAL_DATA_KINDS}, not {marking!r}")
        self.schemas = dict(schemas)
        self.topics = topics
        self._properties: dict[str, dict[str, str | None]] = {}

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

    # -- personal data --------------------------------------------------------------------------
    def is_retired(self, event_type: str) -> bool:
        """True when the type's schema carries ``x-retired`` (consumers refuse its events)."""
        if event_type not in self.schemas:
            raise UnknownEventType(event_type)
        return bool(self.schemas[event_type].get(RETIRED))

    def property_paths(self, event_type: str) -> list[str]:
        """Every property of the type's data as a JSON pointer, through ``$ref``, ``anyOf`` and
        the like into shared documents; an array's items are ``<array>/*``."""
        return sorted(self._walk(event_type))

    def personal_fields(self, event_type: str) -> dict[str, str]:
        """Each property marked ``x-personal-data``, by JSON pointer, with its marking. A marking on
        a schema reached through ``$ref`` counts for the property that refers to it; where several
        branches mark one property, the strongest marking wins."""
        return {path: marking for path, marking in sorted(self._walk(event_type).items()) if marking}

    def redact_personal(self, event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """A deep copy of ``data`` with every ``direct`` field replaced by
        :data:`REMOVED_PERSONAL_DATA`. Missing and null fields stay as they are. Where the data does
        not have the shape its schema says (an object where a string was expected, a string where
        an object holding direct fields was expected), the whole misshapen value is replaced, so a
        malformed event cannot carry a name past the redaction."""
        redacted = copy.deepcopy(dict(data))
        for path, marking in self.personal_fields(event_type).items():
            if marking == "direct":
                _scrub(redacted, _pointer_tokens(path))
        return redacted

    def _walk(self, event_type: str) -> dict[str, str | None]:
        if event_type not in self._properties:
            schema = self.schemas.get(event_type)
            if schema is None:
                raise UnknownEventType(event_type)
            base = schema.get("$id") or f"urn:mimis:contracts:{event_type}"
            resource = Resource.from_contents(schema, default_specification=DRAFT202012)
            found: dict[str, str | None] = {}
            _walk_schema(schema, self._refs.with_resource(base, resource).resolver(base_uri=base), "", found,
                         frozenset())
            self._properties[event_type] = found
        return self._properties[event_type]

    def extended(self, schemas: Mapping[str, dict[str, Any]], topics: list[TopicSpec]) -> ContractRegistry:
        """A registry with more contracts (tests declare their own beside the product's)."""
        return ContractRegistry({**self.schemas, **schemas}, self.topics.extended(topics), self.shared)



def _markings(node: Any) -> list[Any]:
    """Every ``x-personal-data`` value anywhere in a schema document."""
    if isinstance(node, dict):
        own = [node[PERSONAL_DATA]] if PERSONAL_DATA in node else []
        return own + [m for key, value in node.items() if key != PERSONAL_DATA for m in _markings(value)]
    if isinstance(node, list):
        return [m for value in node for m in _markings(value)]
    return []


def _stronger(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if PERSONAL_DATA_KINDS.index(a) <= PERSONAL_DATA_KINDS.index(b) else b


def _walk_schema(node: Any, resolver: Any, path: str, found: dict[str, str | None],
                 expanding: frozenset[int]) -> None:
    """Record every property path under ``node`` and the strongest marking seen for it.

    ``expanding`` holds the ``$ref`` targets being expanded on the way here, so a recursive
    schema ends instead of looping."""
    if not isinstance(node, dict):
        return
    if path:
        found[path] = _stronger(found.get(path), node.get(PERSONAL_DATA))
    ref = node.get("$ref")
    if isinstance(ref, str):
        resolved = resolver.lookup(ref)
        if id(resolved.contents) not in expanding:
            _walk_schema(resolved.contents, resolved.resolver, path, found, expanding | {id(resolved.contents)})
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in node.get(keyword) or ():
            _walk_schema(branch, resolver, path, found, expanding)
    for keyword in ("if", "then", "else"):
        _walk_schema(node.get(keyword), resolver, path, found, expanding)
    for name, subschema in (node.get("properties") or {}).items():
        child = f"{path}/{name.replace('~', '~0').replace('/', '~1')}"
        found.setdefault(child, None)
        _walk_schema(subschema, resolver, child, found, expanding)
    if isinstance(node.get("items"), dict):
        found.setdefault(f"{path}/*", None)
        _walk_schema(node["items"], resolver, f"{path}/*", found, expanding)


def _pointer_tokens(path: str) -> list[str]:
    return [token.replace("~1", "/").replace("~0", "~") for token in path.split("/")[1:]]


def _scrub(node: Any, tokens: list[str]) -> Any:
    """``node`` with the value at ``tokens`` replaced (in place where it is a container)."""
    if node is None:
        return None  # nothing there: a missing or null field stays so
    if not tokens:
        return REMOVED_PERSONAL_DATA
    head, rest = tokens[0], tokens[1:]
    if head == "*" and isinstance(node, list):
        node[:] = [_scrub(item, rest) for item in node]
        return node
    if head != "*" and isinstance(node, dict):
        if head in node:
            node[head] = _scrub(node[head], rest)
        return node
    return REMOVED_PERSONAL_DATA  # not the container the schema describes: it may hide anything


CONTRACTS = ContractRegistry.from_directory(resources.files(__name__), TOPICS)
