"""The reviewer registry's entries and the conflict-of-interest rule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.quality.domain.problems import ConflictOfInterest


@dataclass(frozen=True)
class Reviewer:
    """A member of the quality board who may be assigned reviews. ``organisations`` are the
    organisation ids (as the catalog names providers) the person works for or represents."""

    subject: str
    display_name: str
    organisations: tuple[str, ...]
    active: bool
    registered_at: datetime
    updated_at: datetime


def refuse_conflict_of_interest(who: str, organisations: Iterable[str], provider_id: str) -> None:
    """Nobody reviews their own organisation's work (DESIGN.md: "never reviews its own
    organisation's work")."""
    if provider_id in set(organisations):
        raise ConflictOfInterest(
            "conflict-of-interest",
            f"{who} belongs to {provider_id!r}, the provider under review; "
            "a reviewer never reviews their own organisation's work",
        )
