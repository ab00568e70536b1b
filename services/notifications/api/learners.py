"""Service-to-service: this service's part of a learner's data export, which issuance asks for."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from mimis_platform.api_errors import ERROR_RESPONSES, ErrorBody, Forbidden
from mimis_platform.auth import CurrentParty, Principal, Role
from services.notifications.api.deps import NotificationsDep
from services.notifications.api.models import LearnerEmailDelivery, LearnerPersonalData, LearnerWebhookDelivery
from services.notifications.domain.privacy import LEARNER_REF

router = APIRouter(prefix="/v1/internal", tags=["internal"])


def service_caller(party: CurrentParty) -> Principal:
    # A dependency, so a caller without the role is refused before anything about the path is said.
    if not party.has_role(Role.SERVICE):
        raise Forbidden("only MIMIS services (role service) may ask for a learner's records")
    return party


ServiceCaller = Annotated[Principal, Depends(service_caller)]
LearnerRef = Annotated[str, Path(pattern=LEARNER_REF.pattern, description="Issuance's pseudonymous learner id.")]


@router.get("/learners/{learner_ref}/personal-data", response_model=LearnerPersonalData,
            responses={**ERROR_RESPONSES, 401: {"model": ErrorBody, "description": "No valid bearer token."},
                       403: {"model": ErrorBody, "description": "The caller is not a service (role `service`)."}},
            summary="What this service holds about a learner (issuance's data export asks for it)")
async def personal_data(learner_ref: LearnerRef, n: NotificationsDep, _: ServiceCaller) -> LearnerPersonalData:
    """Every record naming the learner: the e-mails to them (the address is never stored here)
    and the webhook deliveries to partners whose body named them. Nothing about anyone else. A
    learner this service holds nothing about (or no longer: erased) gets empty lists, not 404, so
    issuance can tell "nothing here" from "not reachable". Only for services (role `service`):
    issuance calls it for `GET /v1/me/personal-data` and the operators' export."""
    found = await n.store.learner_records(learner_ref)
    return LearnerPersonalData(
        learner_ref=learner_ref, email_deliveries=[LearnerEmailDelivery.of(d) for d in found.emails],
        webhook_deliveries=[LearnerWebhookDelivery.of(d, data) for d, data in found.webhooks])
