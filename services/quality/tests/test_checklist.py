"""Checklist validation, as pure functions: every problem names the item and the criterion."""

from __future__ import annotations

from services.quality.domain.checklist import Checklist, ChecklistItem, Mark, checklist_problems, unmarked
from services.quality.domain.criteria import PUBLISHED, V2026_1
from services.quality.tests.factories import all_marked, at


def test_the_built_in_criteria_cover_the_ten_eu_principles_in_both_languages() -> None:
    assert "2026.1" in PUBLISHED
    assert [c.principle for c in V2026_1.criteria] == [
        "Quality", "Transparency", "Relevance", "Valid assessment", "Learning pathways", "Recognition", "Portable",
        "Learner-centred", "Authentic", "Information and guidance"]
    assert len(set(V2026_1.codes)) == 10
    for c in V2026_1.criteria:
        assert c.title.sv and c.title.en and len(c.guidance.sv) > 80 and len(c.guidance.en) > 80


def test_a_complete_checklist_has_no_problems() -> None:
    assert checklist_problems(V2026_1, all_marked()) == []
    assert checklist_problems(V2026_1, all_marked(Mark.NOT_APPLICABLE)) == []


def test_not_met_needs_a_comment_naming_the_criterion() -> None:
    items = all_marked(valid_assessment=(Mark.NOT_MET, "  "))
    problems = checklist_problems(V2026_1, items)
    assert [(p.field, p.type) for p in problems] == [("items.3.comment", "comment_required")]
    assert "'valid-assessment'" in problems[0].message and "Valid assessment" in problems[0].message
    assert checklist_problems(V2026_1, all_marked(valid_assessment=(Mark.NOT_MET, "Mall saknas."))) == []


def test_unknown_and_repeated_criteria_are_refused() -> None:
    items = [ChecklistItem("quality", Mark.MET), ChecklistItem("beauty", Mark.MET), ChecklistItem("quality", Mark.MET)]
    problems = checklist_problems(V2026_1, items)
    assert [(p.field, p.type) for p in problems] == [("items.1.criterion", "unknown_criterion"),
                                                     ("items.2.criterion", "duplicate_criterion")]
    assert "2026.1" in problems[0].message


def test_unmarked_lists_what_is_missing_in_the_criteria_order() -> None:
    assert unmarked(V2026_1, None) == list(V2026_1.codes)
    partial = Checklist("eva", (ChecklistItem("authentic", Mark.MET), ChecklistItem("quality", Mark.MET)), at(0))
    assert unmarked(V2026_1, partial) == [c for c in V2026_1.codes if c not in ("authentic", "quality")]
