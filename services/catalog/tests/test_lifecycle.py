"""The lifecycle's rules, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.catalog.domain import lifecycle as lc
from services.catalog.domain.lifecycle import Decision, LifecycleError, ReviewOutcome, Status
from services.catalog.tests.factories import content

T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def published_v1() -> lc.MicroCredentialVersion:
    draft = lc.start("mc-1", "hkr", content(), now=at(0), by="anna").changed[0]
    submitted = lc.submit(draft, now=at(1), by="anna").changed[0]
    in_review = lc.start_review(submitted, "rv-1", now=at(2)).changed[0]
    return lc.decide(in_review, ReviewOutcome("rv-1", Decision.APPROVE), now=at(3), published=None).changed[0]


def test_the_happy_path_ends_published_with_its_history() -> None:
    v1 = published_v1()
    assert v1.status is Status.PUBLISHED and v1.published_at == at(3)
    assert [h.status for h in v1.history] == [Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.APPROVED,
                                              Status.PUBLISHED]


def test_changes_requested_then_resubmitted() -> None:
    draft = lc.start("mc-1", "hkr", content(), now=at(0), by="anna").changed[0]
    in_review = lc.start_review(lc.submit(draft, now=at(1), by="anna").changed[0], "rv-1", now=at(2)).changed[0]
    outcome = lc.decide(in_review, ReviewOutcome("rv-1", Decision.REQUEST_CHANGES, ("Lägg till bedömningskriterier",)),
                        now=at(3), published=None)
    asked = outcome.changed[0]
    assert asked.status is Status.CHANGES_REQUESTED
    assert outcome.events[0].comments == ("Lägg till bedömningskriterier",)  # type: ignore[union-attr]
    edited = lc.edit(asked, content(title={"sv": "Ny titel"}), now=at(4), by="anna").changed[0]
    assert edited.status is Status.DRAFT and edited.content.title.sv == "Ny titel"
    assert lc.submit(edited, now=at(5), by="anna").changed[0].status is Status.SUBMITTED


def test_a_published_version_never_changes() -> None:
    with pytest.raises(LifecycleError, match="never changes"):
        lc.edit(published_v1(), content(), now=at(9), by="anna")


def test_editing_published_means_a_new_version_which_supersedes_on_approval() -> None:
    v1 = published_v1()
    v2 = lc.new_version(v1, content(title={"sv": "Version två"}), now=at(10), by="anna").changed[0]
    assert (v2.version, v2.status, v1.status) == (2, Status.DRAFT, Status.PUBLISHED)
    with pytest.raises(LifecycleError, match="still draft"):
        lc.new_version(v2, None, now=at(11), by="anna")
    in_review = lc.start_review(lc.submit(v2, now=at(12), by="anna").changed[0], "rv-2", now=at(13)).changed[0]
    outcome = lc.decide(in_review, ReviewOutcome("rv-2", Decision.APPROVE), now=at(14), published=v1)
    by_version = {v.version: v.status for v in outcome.changed}
    assert by_version == {2: Status.PUBLISHED, 1: Status.SUPERSEDED}
    published_event = next(e for e in outcome.events if isinstance(e, lc.CredentialPublished))
    assert published_event.supersedes == 1


def test_review_states_only_move_from_the_right_place() -> None:
    draft = lc.start("mc-1", "hkr", content(), now=at(0), by="anna").changed[0]
    with pytest.raises(LifecycleError):
        lc.start_review(draft, "rv-1", now=at(1))
    with pytest.raises(LifecycleError):
        lc.decide(draft, ReviewOutcome("rv-1", Decision.APPROVE), now=at(1), published=None)
    submitted = lc.submit(draft, now=at(1), by="anna").changed[0]
    in_review = lc.start_review(submitted, "rv-1", now=at(2)).changed[0]
    assert lc.start_review(in_review, "rv-1", now=at(3)).changed == []  # the same news twice does nothing
    with pytest.raises(LifecycleError, match="only a draft"):
        lc.submit(in_review, now=at(3), by="anna")


def test_rejected_and_retired() -> None:
    draft = lc.start("mc-1", "hkr", content(), now=at(0), by="anna").changed[0]
    in_review = lc.start_review(lc.submit(draft, now=at(1), by="anna").changed[0], "rv-1", now=at(2)).changed[0]
    rejected = lc.decide(in_review, ReviewOutcome("rv-1", Decision.REJECT, reason="Ingen bedömning"), now=at(3),
                         published=None)
    assert rejected.changed[0].status is Status.REJECTED
    assert rejected.events[0].reason == "Ingen bedömning"  # type: ignore[union-attr]
    retired = lc.retire(published_v1(), now=at(20), by="anna", reason="Ersatt av ny kurs")
    assert retired.changed[0].status is Status.RETIRED
    with pytest.raises(LifecycleError):
        lc.retire(retired.changed[0], now=at(21), by="anna", reason=None)
