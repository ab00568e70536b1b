"""The decision rule and the comments that travel back, as pure functions."""

from __future__ import annotations

import pytest

from services.quality.domain.checklist import Checklist, ChecklistItem, Mark
from services.quality.domain.criteria import V2026_1
from services.quality.domain.decision import Decision, Verdict, decide, decision_reason, travelling_comments
from services.quality.tests.factories import at

APPROVE, CHANGES, REJECT = Decision.APPROVE, Decision.REQUEST_CHANGES, Decision.REJECT


def verdict(who: str, decision: Decision, *comments: str, reason: str | None = None) -> Verdict:
    return Verdict(who, decision, comments, reason, at(1))


@pytest.mark.parametrize(("given", "required", "expected"), [
    ([], 1, None),
    ([APPROVE], 1, APPROVE),
    ([APPROVE], 2, None),  # one approval is not enough where two are required
    ([APPROVE, APPROVE], 2, APPROVE),
    ([APPROVE, APPROVE], 3, None),
    ([APPROVE, CHANGES], 1, CHANGES),
    ([CHANGES, APPROVE, APPROVE], 2, CHANGES),  # any request for changes wins over approvals
    ([APPROVE, REJECT], 1, REJECT),
    ([CHANGES, REJECT], 2, REJECT),  # any reject wins over everything
    ([REJECT], 2, REJECT),
])
def test_any_reject_then_any_request_changes_then_enough_approvals(
    given: list[Decision], required: int, expected: Decision | None
) -> None:
    verdicts = [verdict(f"r{i}", d, "c") for i, d in enumerate(given)]
    assert decide(verdicts, required) is expected


def test_every_verdicts_comments_and_every_not_met_criterion_travel_back_without_names() -> None:
    verdicts = [verdict("eva", APPROVE, "Tydliga läranderesultat."),
                verdict("omar", CHANGES, "Beskriv bedömningen.", "Ange förkunskapskrav.")]
    checklists = [Checklist("omar", (ChecklistItem("valid-assessment", Mark.NOT_MET, "Bedömningsmall saknas."),
                                     ChecklistItem("quality", Mark.MET)), at(1))]
    comments = travelling_comments(verdicts, checklists, V2026_1)
    assert comments == ["Tydliga läranderesultat.", "Beskriv bedömningen.", "Ange förkunskapskrav.",
                        "Valid bedömning (valid-assessment): Bedömningsmall saknas."]
    assert not any("omar" in c or "eva" in c for c in comments)


def test_comments_are_capped_at_the_contracts_limit_and_deduplicated() -> None:
    verdicts = [verdict(f"r{i}", CHANGES, *(f"c{j}" for j in range(20))) for i in range(7)]
    comments = travelling_comments(verdicts, [], V2026_1)
    assert comments == [f"c{j}" for j in range(20)]  # the same text once
    many = [verdict(f"r{i}", CHANGES, *(f"r{i}c{j}" for j in range(20))) for i in range(7)]
    assert len(travelling_comments(many, [], V2026_1)) == 100


def test_a_rejection_carries_its_reasons() -> None:
    assert decision_reason([verdict("eva", APPROVE), verdict("omar", REJECT, reason="Inte en mikromerit.")]) == (
        "Inte en mikromerit.")
    assert decision_reason([verdict("eva", APPROVE)]) is None
