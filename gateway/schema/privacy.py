"""Learners' rights (GDPR Art. 15, 17 and 20): a learner downloads everything MIMIS holds about them
and asks for it to be erased in every service; operators do both on a learner's written request.

The issuance service owns these (it asks every other service for its part of an export, and
follows an erasure until every service has confirmed); the gateway checks roles first and forwards
the caller's token, so issuance checks again (whose erasure is whose, who is ops).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.schema.common import JSON, ctx, parse_time
from gateway.services import seg
from mimis_platform.auth import Role


@strawberry.type(description="One service's confirmation that it erased a learner.")
class ErasureConfirmation:
    service: str
    confirmed_at: datetime
    records_erased: int


@strawberry.type(description="A request to erase a learner in every MIMIS service, and which services have "
                             "confirmed it. The fact of issuance and each credential's status remain, so copies "
                             "the learner gave away still verify honestly (without the learner's name).")
class Erasure:
    erasure_id: strawberry.ID
    learner_ref: strawberry.ID = strawberry.field(description="The learner's pseudonymous reference.")
    requested_at: datetime
    requested_by: str = strawberry.field(description="learner | operator")
    status: str = strawberry.field(description="in_progress | complete (every service has confirmed)")
    completed_at: datetime | None
    confirmed: list[ErasureConfirmation]
    waiting_for: list[str] = strawberry.field(description="Services that have not confirmed yet.")

    @classmethod
    def of(cls, b: dict[str, Any]) -> Erasure:
        return cls(erasure_id=strawberry.ID(b["erasure_id"]), learner_ref=strawberry.ID(b["learner_ref"]),
                   requested_at=parse_time(b["requested_at"]) or datetime.min, requested_by=b["requested_by"],
                   status=b["status"], completed_at=parse_time(b.get("completed_at")),
                   confirmed=[ErasureConfirmation(service=c["service"],
                                                  confirmed_at=parse_time(c["confirmed_at"]) or datetime.min,
                                                  records_erased=c["records_erased"]) for c in b["confirmed"]],
                   waiting_for=list(b["waiting_for"]))


@strawberry.type(description="The learner an operator looked up.")
class LearnerFound:
    learner_ref: strawberry.ID
    erased: bool


@strawberry.type
class PrivacyQuery:
    @strawberry.field(description="Everything MIMIS holds about you, from every service, as one JSON document "
                                  "(learners; GDPR articles 15 and 20). When a service cannot give its part, no "
                                  "document is given: SERVICE_UNAVAILABLE with reason export_incomplete; try again "
                                  "shortly. NOT_FOUND when MIMIS holds no learner record for you.")
    async def my_personal_data(self, info: Info) -> JSON | None:
        c = ctx(info)
        c.identity.require(Role.LEARNER)
        body: JSON = await c.services.get("issuance", "/v1/me/personal-data", token=c.token)
        return body

    @strawberry.field(description="An erasure request and which services have confirmed it (ops, or the learner "
                                  "who asked; null for anyone else).")
    async def erasure(self, info: Info, id: strawberry.ID) -> Erasure | None:
        c = ctx(info)
        c.identity.require(Role.LEARNER, Role.OPS)
        body = await c.services.get("issuance", f"/v1/erasures/{seg(id)}", token=c.token, missing_is_none=True)
        return Erasure.of(body) if body else None

    @strawberry.field(description="Everything MIMIS holds about a learner, for a learner who asked in writing (ops). "
                                  "Errors as for myPersonalData.")
    async def learner_personal_data(self, info: Info, learner_ref: strawberry.ID) -> JSON | None:
        c = ctx(info)
        c.identity.require(Role.OPS)
        body: JSON = await c.services.get("issuance", f"/v1/learners/{seg(learner_ref)}/personal-data",
                                          token=c.token)
        return body


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(description="Erase your personal data in every MIMIS service (learners). Your credentials "
                                     "stop being downloadable and your share links stop working; copies you gave "
                                     "away still verify honestly. Follow it with `erasure(id)` until its status is "
                                     "complete.")
    async def request_my_erasure(self, info: Info) -> Erasure | None:
        c = ctx(info)
        c.identity.require(Role.LEARNER)
        return Erasure.of(await c.services.call("issuance", "POST", "/v1/me/erasure", token=c.token))

    @strawberry.mutation(description="Erase a learner in every service on the learner's written request (ops). "
                                     "Asking again for an erased learner answers the earlier request.")
    async def learner_erasure(self, info: Info, learner_ref: strawberry.ID) -> Erasure | None:
        c = ctx(info)
        c.identity.require(Role.OPS)
        return Erasure.of(await c.services.call("issuance", "POST", f"/v1/learners/{seg(learner_ref)}/erasure",
                                                token=c.token))

    @strawberry.mutation(description="Find a learner's learnerRef by exactly one identifier the learner gave in a "
                                     "request (ops); null when MIMIS holds no such learner (never registered, or "
                                     "erased). A mutation so that the identifier always travels in a POST body, "
                                     "never in a URL.")
    async def look_up_learner(self, info: Info, email: str | None = None,
                              personal_identity_number: str | None = None) -> LearnerFound | None:
        c = ctx(info)
        c.identity.require(Role.OPS)
        body = {k: v for k, v in (("email", email), ("personal_identity_number", personal_identity_number))
                if v is not None}
        found = await c.services.call("issuance", "POST", "/v1/learners/lookup", token=c.token, json=body,
                                      missing_is_none=True)
        return LearnerFound(learner_ref=strawberry.ID(found["learner_ref"]), erased=found["erased"]) if found else None
