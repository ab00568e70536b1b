"""Dependencies and access rules of the issuance API.

Provider staff: role ``provider-member`` with the provider in the token's ``org`` claim (the
catalog decides membership; issuance trusts the identity provider's claim). Learners: role
``learner``; the token's subject is matched to the learner record by the keyed look-up value of
a personal identity number (as Swedish e-identification gives it) or else by e-mail address.
Ops: role ``ops`` rotates signing keys. Services: role ``service`` (the recipient look-up).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mimis_platform.api_errors import ApiError, Forbidden, NotFound
from mimis_platform.auth import CurrentParty, Principal, Role
from mimis_platform.mongo import Document
from mimis_platform.swedish_ids import InvalidIdentifier, parse_personal_identity_number
from services.issuance.domain.assessment import pin_lookup
from services.issuance.domain.learner import normalise_email
from services.issuance.issuer import Issuer
from services.issuance.keystore import KeyStore, ProviderSecrets
from services.issuance.settings import IssuanceSettings
from services.issuance.storage import CredentialStore


class Unprocessable(ApiError):
    status, code = 422, "validation_failed"


class Gone(ApiError):
    status, code = 410, "gone"


def get_issuer(request: Request) -> Issuer:
    issuer: Issuer = request.app.state.issuer
    return issuer


def get_settings(request: Request) -> IssuanceSettings:
    settings: IssuanceSettings = request.app.state.runtime.settings
    return settings


def get_secrets(request: Request) -> ProviderSecrets:
    secrets: ProviderSecrets = request.app.state.provider_secrets
    return secrets


IssuerDep = Annotated[Issuer, Depends(get_issuer)]
SettingsDep = Annotated[IssuanceSettings, Depends(get_settings)]
SecretsDep = Annotated[ProviderSecrets, Depends(get_secrets)]


def store_of(issuer: Issuer) -> CredentialStore:
    return issuer.store


def keys_of(issuer: Issuer) -> KeyStore:
    return issuer.keys


def require_role(principal: Principal, *roles: Role) -> None:
    if not principal.has_role(*roles):
        raise Forbidden(f"this needs one of the roles: {', '.join(r.value for r in roles)}")


def require_provider_member(principal: Principal, provider_id: str) -> None:
    require_role(principal, Role.PROVIDER_MEMBER)
    if provider_id not in principal.organisations:
        raise Forbidden(f"you do not act for provider {provider_id}")


def staff(principal: CurrentParty) -> Principal:
    require_role(principal, Role.PROVIDER_MEMBER)
    return principal


async def learner_of(principal: Principal, issuer: Issuer) -> Document | None:
    require_role(principal, Role.LEARNER)
    subject = principal.subject.strip()
    try:
        parse_personal_identity_number(subject)
    except InvalidIdentifier:
        if "@" in subject:
            return await issuer.store.learner_for_login(email=normalise_email(subject))
        return None
    return await issuer.store.learner_for_login(pin_lookup=pin_lookup(subject, issuer.lookup_key))


async def own_credential(principal: Principal, issuer: Issuer, credential_id: str) -> tuple[Document, Document]:
    learner = await learner_of(principal, issuer)
    doc = await issuer.store.get(credential_id)
    if learner is None or doc is None or doc["learner_ref"] != learner["_id"]:
        raise NotFound(f"you have no credential {credential_id}")
    if doc.get("erased"):
        raise Gone("this credential's personal data was erased")
    return learner, doc


CurrentStaff = Annotated[Principal, Depends(staff)]
