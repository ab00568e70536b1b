"""Subscriptions: which events an organisation's endpoint receives, and who may ask for what.

Event types a subscription may name are those on the topics the notifications service consumes
(the contract registry says which). Most are public knowledge (a published micro-credential, a
provider's catalogue details). The others concern one provider's own work (drafts, submissions,
the quality board's comments, credentials issued and revoked, which name learners by a
pseudonymous ``learner_ref``): a subscription may name them only when its provider filter is
limited to the subscribing organisation itself, unless a region administrator sets it up.
Internal event types (``privacy.*``: erasure requests between the services) are never offered.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mimis_platform.contracts import ContractRegistry

SERVICE = "notifications"
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks: 24 to 64 random bytes

#: Event types on consumed topics that are the services' own business, never a partner's.
INTERNAL_PREFIXES = ("privacy.",)

PUBLIC_EVENT_TYPES = frozenset({
    "catalog.credential.published.v1",
    "catalog.provider.registered.v1",
    "catalog.provider.updated.v1",
})


def subscribable_event_types(contracts: ContractRegistry) -> list[str]:
    return sorted(t for topic in contracts.topics.consumed_by(SERVICE) for t in topic.event_types
                  if not t.startswith(INTERNAL_PREFIXES))


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


@dataclass(frozen=True)
class Filters:
    """Empty means any. An event without the attribute a non-empty filter looks at does not match."""

    branches: frozenset[str] = frozenset()
    providers: frozenset[str] = frozenset()
    micro_credentials: frozenset[str] = frozenset()

    def matches(self, data: Mapping[str, Any]) -> bool:
        if self.providers and data.get("provider_id") not in self.providers:
            return False
        if self.micro_credentials and data.get("micro_credential_id") not in self.micro_credentials:
            return False
        return not (self.branches and not self.branches.intersection(branches_of(data)))


def branches_of(data: Mapping[str, Any]) -> list[str]:
    """An event's branch codes: on issuance events at the top, on catalog events in the content."""
    found = data.get("branches")
    if found is None and isinstance(data.get("content"), Mapping):
        found = data["content"].get("branches")
    return [str(b) for b in found or ()]


@dataclass(frozen=True)
class Subscription:
    id: str
    organisation_id: str
    url: str
    event_types: tuple[str, ...]
    filters: Filters
    owner_email: str
    language: str  # "sv" or "en": the owner's notices
    description: str
    enabled: bool
    disabled_reason: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    consecutive_failures: int = 0
    secret_rotated_at: datetime | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    def wants(self, event_type: str, data: Mapping[str, Any]) -> bool:
        return self.enabled and event_type in self.event_types and self.filters.matches(data)


def refusals(event_types: Iterable[str], filters: Filters, organisation_id: str, known: Iterable[str],
             region_admin: bool) -> list[tuple[str, str]]:
    """(field, message) for each event type a subscription may not name."""
    known_set = set(known)
    problems: list[tuple[str, str]] = []
    for i, event_type in enumerate(event_types):
        if event_type not in known_set:
            problems.append((f"event_types.{i}", f"{event_type!r} is not an event type one can subscribe to "
                                                 f"(known: {', '.join(sorted(known_set))})"))
        elif event_type not in PUBLIC_EVENT_TYPES and not region_admin and filters.providers != {organisation_id}:
            problems.append((f"event_types.{i}", f"{event_type} concerns one provider's own work: set the "
                                                 f"provider filter to exactly [{organisation_id!r}]"))
    return problems
