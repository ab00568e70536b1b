"""A review's rules round by round, as pure functions: opening rounds, assignment and conflict
of interest, checklists, verdicts, the decision and what it emits and audits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.quality.domain import review as rv
from services.quality.domain.checklist import Mark
from services.quality.domain.criteria import V2026_1
from services.quality.domain.decision import Decision
from services.quality.domain.problems import ConflictOfInterest, InvalidInput, NotAllowed, ReviewRefused
from services.quality.domain.statistics import DecidedFacts, summarise
from services.quality.domain.transparency import published_reviews
from services.quality.tests.factories import POLICY, all_marked, at, reviewer, submission

EVA, OMAR = reviewer("eva.lind", "region-skane"), reviewer("omar.haddad", "lunds-universitet")


def opened(eqf: int = 4, latest: rv.Review | None = None, provider_id: str = "hkr") -> rv.Review:
    change = rv.open_review(submission(eqf, provider_id), latest, POLICY, f"rv-{eqf}-{latest is not None}", now=at(0))
    assert change is not None
    return change.review


def with_reviewers(review: rv.Review, *people: rv.Reviewer) -> rv.Review:
    for person in people:
        review = rv.assign(review, person, by="kerstin", now=at(1)).review
    return review


def actor(r: rv.Reviewer, *token_orgs: str) -> rv.Actor:
    return rv.Actor(r.subject, frozenset(r.organisations) | frozenset(token_orgs))


def judged(review: rv.Review, who: rv.Reviewer, decision: Decision, *comments: str, reason: str | None = None,
           items: list | None = None) -> rv.Change:
    review = rv.record_checklist(review, V2026_1, actor(who), items or all_marked(), now=at(2)).review
    return rv.give_verdict(review, V2026_1, actor(who), decision, comments, reason,
                           reviewing_body=POLICY.reviewing_body, now=at(3))


def test_opening_records_criteria_version_approvals_due_date_and_an_opened_event() -> None:
    change = rv.open_review(submission(eqf=5), None, POLICY, "rv-1", now=at(0), cause="event e-1")
    assert change is not None and change.created
    r = change.review
    assert (r.round, r.status, r.criteria_version, r.required_approvals) == (1, rv.ReviewStatus.OPEN, "2026.1", 2)
    assert r.due_at == at(0) + timedelta(days=21)
    assert [type(e) for e in change.events] == [rv.ReviewOpened]
    assert [(a.action, a.actor, a.review_id, a.version) for a in change.audit] == [
        ("review.opened", "quality", "rv-1", 1)]
    assert opened(eqf=4).required_approvals == 1
    assert rv.ApprovalRule(default=2, high_level=3, high_level_from_eqf=6).required_for(6) == 3


def test_an_open_round_is_not_opened_twice_and_a_decided_version_not_again() -> None:
    review = opened()
    assert rv.open_review(submission(), review, POLICY, "rv-x", now=at(5)) is None
    approved = judged(with_reviewers(review, EVA), EVA, Decision.APPROVE).review
    with pytest.raises(ReviewRefused, match="not reviewed again"):
        rv.open_review(submission(), approved, POLICY, "rv-x", now=at(5))


def test_a_resubmission_after_changes_opens_the_next_round_with_the_previous_comments() -> None:
    asked = judged(with_reviewers(opened(), EVA), EVA, Decision.REQUEST_CHANGES, "Beskriv bedömningen.",
                   items=all_marked(valid_assessment=(Mark.NOT_MET, "Bedömningsmall saknas."))).review
    second = rv.open_review(submission(), asked, POLICY, "rv-2", now=at(10))
    assert second is not None
    r = second.review
    assert r.round == 2 and r.previous_round is not None
    assert r.previous_round.review_id == asked.id and r.previous_round.decision is Decision.REQUEST_CHANGES
    assert r.previous_round.comments == ("Beskriv bedömningen.", "Valid bedömning (valid-assessment): "
                                                                 "Bedömningsmall saknas.")
    assert second.audit[0].details["previous_review_id"] == asked.id


def test_no_reviewer_from_the_providers_own_organisation() -> None:
    insider = reviewer("stina", "hkr")
    with pytest.raises(ConflictOfInterest, match="own organisation"):
        rv.assign(opened(), insider, by="kerstin", now=at(1))
    review = with_reviewers(opened(), EVA)
    # the token says Eva now also works for the provider: refused at checklist and verdict time
    with pytest.raises(ConflictOfInterest):
        rv.record_checklist(review, V2026_1, actor(EVA, "hkr"), all_marked(), now=at(2))
    ready = rv.record_checklist(review, V2026_1, actor(EVA), all_marked(), now=at(2)).review
    with pytest.raises(ConflictOfInterest):
        rv.give_verdict(ready, V2026_1, actor(EVA, "hkr"), Decision.APPROVE, (), None, reviewing_body="b", now=at(3))


def test_assignment_rules() -> None:
    review = with_reviewers(opened(), EVA)
    with pytest.raises(ReviewRefused, match="already assigned"):
        rv.assign(review, EVA, by="kerstin", now=at(1))
    with pytest.raises(InvalidInput, match="not active"):
        rv.assign(review, reviewer("olle", active=False), by="kerstin", now=at(1))
    withdrawn = rv.unassign(review, EVA.subject, by="kerstin", now=at(2))
    assert withdrawn.review.assignments == () and withdrawn.audit[0].action == "reviewer.unassigned"


def test_only_assigned_reviewers_work_on_a_review_and_a_verdict_is_final() -> None:
    review = with_reviewers(opened(eqf=5), EVA, OMAR)
    with pytest.raises(NotAllowed):
        rv.record_checklist(review, V2026_1, rv.Actor("mallory"), all_marked(), now=at(2))
    once = judged(review, EVA, Decision.APPROVE).review
    with pytest.raises(ReviewRefused, match="verdict is final"):
        rv.give_verdict(once, V2026_1, actor(EVA), Decision.APPROVE, (), None, reviewing_body="b", now=at(4))
    with pytest.raises(ReviewRefused, match="stays"):
        rv.unassign(once, EVA.subject, by="kerstin", now=at(4))


def test_a_verdict_needs_a_complete_checklist_and_an_approval_no_unmet_criterion() -> None:
    review = with_reviewers(opened(), EVA)
    partial = rv.record_checklist(review, V2026_1, actor(EVA), all_marked()[:8], now=at(2)).review
    with pytest.raises(InvalidInput) as missing:
        rv.give_verdict(partial, V2026_1, actor(EVA), Decision.APPROVE, (), None, reviewing_body="b", now=at(3))
    assert [p.field for p in missing.value.problems] == ["checklist.authentic", "checklist.information-and-guidance"]

    unmet = rv.record_checklist(review, V2026_1, actor(EVA), all_marked(relevance=(Mark.NOT_MET, "Behov?")),
                                now=at(2)).review
    with pytest.raises(InvalidInput) as refused:
        rv.give_verdict(unmet, V2026_1, actor(EVA), Decision.APPROVE, (), None, reviewing_body="b", now=at(3))
    assert [(p.field, p.type) for p in refused.value.problems] == [("checklist.relevance", "not_met")]
    with pytest.raises(InvalidInput) as no_comment:
        rv.give_verdict(unmet, V2026_1, actor(EVA), Decision.REQUEST_CHANGES, (" ",), None, reviewing_body="b",
                        now=at(3))
    assert [p.field for p in no_comment.value.problems] == ["comments"]
    with pytest.raises(InvalidInput) as no_reason:
        rv.give_verdict(unmet, V2026_1, actor(EVA), Decision.REJECT, (), "", reviewing_body="b", now=at(3))
    assert [p.field for p in no_reason.value.problems] == ["reason"]


def test_two_approvals_decide_an_eqf5_entry_and_the_decision_is_final() -> None:
    review = with_reviewers(opened(eqf=5), EVA, OMAR, reviewer("lena", "folkbildningsforbundet"))
    first = judged(review, EVA, Decision.APPROVE)
    assert first.review.status is rv.ReviewStatus.OPEN and first.events == ()  # one approval is not enough
    second = judged(first.review, OMAR, Decision.APPROVE)
    final = second.review
    assert final.status is rv.ReviewStatus.DECIDED and final.outcome is not None
    assert final.outcome.decision is Decision.APPROVE and final.outcome.reviewing_body == POLICY.reviewing_body
    assert [type(e) for e in second.events] == [rv.ReviewDecided]
    assert [a.action for a in second.audit] == ["verdict.given", "review.decided"]
    with pytest.raises(ReviewRefused, match="final"):
        judged(final, reviewer("lena", "folkbildningsforbundet"), Decision.REJECT, reason="Nej.")


def test_the_public_summary_counts_the_approving_checklists_and_names_nobody() -> None:
    review = with_reviewers(opened(eqf=5), EVA, OMAR)
    review = judged(review, EVA, Decision.APPROVE, items=all_marked(portability=(Mark.NOT_APPLICABLE, None))).review
    review = judged(review, OMAR, Decision.APPROVE).review
    [summary] = published_reviews([review, opened()])
    assert (summary.version, summary.outcome, summary.approvals, summary.rounds) == (1, Decision.APPROVE, 2, 1)
    tallies = {t.code: (t.met, t.not_applicable) for t in summary.criteria}
    assert tallies["portability"] == (1, 1) and tallies["quality"] == (2, 0) and len(tallies) == 10
    assert "eva.lind" not in repr(summary) and "omar.haddad" not in repr(summary)


def test_statistics_median_mean_and_rates_per_kind_and_branch() -> None:
    facts = [
        DecidedFacts("university", ("vard-och-omsorg",), at(0), at(10), Decision.APPROVE),
        DecidedFacts("university", ("vard-och-omsorg", "it"), at(0), at(20), Decision.REQUEST_CHANGES),
        DecidedFacts("employer", ("it",), at(0), at(60), Decision.APPROVE),
    ]
    s = summarise(4, 1, facts)
    assert (s.open, s.overdue, s.decided) == (4, 1, 3)
    assert s.median_hours_to_decision == 20 and s.mean_hours_to_decision == 30
    kinds = {r.key: (r.decided, r.approved, r.changes_requested, r.approval_rate) for r in s.by_provider_kind}
    assert kinds == {"employer": (1, 1, 0, 1.0), "university": (2, 1, 1, 0.5)}
    assert {r.key: r.decided for r in s.by_branch} == {"it": 2, "vard-och-omsorg": 2}
    assert summarise(0, 0, []).median_hours_to_decision is None
