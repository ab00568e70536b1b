"""Why the domain refuses a command. Plain data: the API turns it into the shared error shape."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One precise reason, attached to the field (or criterion) it concerns."""

    field: str
    type: str
    message: str


class ReviewRefused(Exception):
    """A command the rules refuse. ``kind`` says which family (the API maps it to a status)."""

    kind = "rule"

    def __init__(self, code: str, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.problems = code, message, problems or []


class InvalidInput(ReviewRefused):
    """The command's content is wrong (422): ``problems`` names each field."""

    kind = "invalid"


class ConflictOfInterest(ReviewRefused):
    """Someone would judge their own organisation's work (409)."""

    kind = "conflict-of-interest"


class NotAllowed(ReviewRefused):
    """The actor has no part in this review (403)."""

    kind = "not-allowed"
