"""Pathways: stackable sets of micro-credentials that together make a role or a larger
qualification, with the rule for completion, and a learner's progress toward one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pydantic import Field, model_validator

from services.catalog.domain.model import Code, LanguageMap, LongLanguageMap, Strict


class CompletionRule(StrEnum):
    ALL = "all"  # every micro-credential in the pathway
    AT_LEAST = "at-least"  # every required one, and at least `minimum` in all


class PathwayContent(Strict):
    title: LanguageMap
    description: LongLanguageMap
    leads_to: LanguageMap = Field(description="The role or qualification the pathway makes, e.g. 'Undersköterska'.")
    esco_occupation: str | None = Field(None, pattern=r"^http://data\.europa\.eu/esco/occupation/[0-9a-f-]{36}$")
    branches: list[Code] = Field(min_length=1, max_length=5)
    micro_credential_ids: list[str] = Field(min_length=2, max_length=50)
    rule: CompletionRule = CompletionRule.ALL
    required: list[str] = Field(default_factory=list)
    minimum: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _consistent_rule(self) -> PathwayContent:
        members = self.micro_credential_ids
        if len(set(members)) != len(members):
            raise ValueError("a micro-credential appears twice in the pathway")
        outside = [r for r in self.required if r not in members]
        if outside:
            raise ValueError(f"required micro-credentials must be part of the pathway: {', '.join(outside)}")
        if self.rule is CompletionRule.ALL and (self.required or self.minimum is not None):
            raise ValueError("rule 'all' takes neither 'required' nor 'minimum'")
        if self.rule is CompletionRule.AT_LEAST:
            if self.minimum is None:
                raise ValueError("rule 'at-least' needs 'minimum'")
            if not len(self.required) <= self.minimum <= len(members):
                raise ValueError(f"'minimum' must lie between the number required ({len(self.required)}) "
                                 f"and the number in the pathway ({len(members)})")
        return self


@dataclass(frozen=True)
class PathwayProgress:
    earned: list[str]
    missing_required: list[str]
    still_needed: int  # how many more micro-credentials complete the pathway
    complete: bool


def progress(pathway: PathwayContent, earned_micro_credential_ids: Iterable[str]) -> PathwayProgress:
    """Progress from the micro-credentials a learner holds (any version counts)."""
    held = set(earned_micro_credential_ids)
    earned = [m for m in pathway.micro_credential_ids if m in held]
    if pathway.rule is CompletionRule.ALL:
        needed = len(pathway.micro_credential_ids) - len(earned)
        missing_required = [m for m in pathway.micro_credential_ids if m not in held]
    else:
        assert pathway.minimum is not None
        missing_required = [m for m in pathway.required if m not in held]
        needed = max(len(missing_required), pathway.minimum - len(earned))
    return PathwayProgress(earned, missing_required, needed, needed == 0)
