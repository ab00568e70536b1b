"""The quality service's events: its outgoing review events as contract-checked envelopes, and
the handler of the catalog's submissions with its routing table (event type -> handler)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from mimis_platform.consumer import Handler, PermanentError
from mimis_platform.envelope import Event
from services.quality.domain import review as rv
from services.quality.domain.problems import ReviewRefused

SOURCE = "/mimis/quality"
CREDENTIAL_SUBMITTED = "catalog.credential.submitted.v1"
REVIEW_OPENED = "quality.review.opened.v1"
REVIEW_DECIDED = "quality.review.decided.v1"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def review_event(event: rv.ReviewEvent) -> Event:
    """The envelope of a review event. The decision names the board, never a reviewer."""
    r, s = event.review, event.review.submission
    data: dict[str, Any] = {
        "review_id": r.id, "micro_credential_id": s.micro_credential_id, "version": s.version,
        "provider_id": s.provider_id, "criteria_version": r.criteria_version,
    }
    if isinstance(event, rv.ReviewOpened):
        event_type, at = REVIEW_OPENED, r.opened_at
        data.update(opened_at=iso(r.opened_at), due_at=iso(r.due_at))
    else:
        assert r.outcome is not None
        event_type, at = REVIEW_DECIDED, r.outcome.decided_at
        data.update(decision=r.outcome.decision.value, comments=list(r.outcome.comments), reason=r.outcome.reason,
                    reviewing_body=r.outcome.reviewing_body, decided_at=iso(r.outcome.decided_at))
    return Event(type=event_type, source=SOURCE, partition_key=s.micro_credential_id,
                 subject=f"reviews/{r.id}", time=at, data=data)


def submission_of(data: dict[str, Any]) -> rv.Submission:
    return rv.Submission(
        micro_credential_id=data["micro_credential_id"], version=data["version"], provider_id=data["provider_id"],
        provider_kind=data["provider_kind"], provider_name=data["provider_name"], content=data["content"],
        submitted_at=parse_time(data["submitted_at"]),
    )


SubmissionHandler = Callable[[rv.Submission, str, AsyncClientSession], Awaitable[Any]]


def routes(*, on_submitted: SubmissionHandler) -> dict[str, Handler]:
    async def submitted(event: Event, session: AsyncClientSession) -> None:
        try:
            await on_submitted(submission_of(event.data), event.id, session)
        except ReviewRefused as exc:  # e.g. a version the board already decided: never passes
            raise PermanentError(f"{exc.code}: {exc.message}") from exc

    return {CREDENTIAL_SUBMITTED: submitted}
