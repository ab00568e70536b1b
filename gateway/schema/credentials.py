"""Issued credentials: issuing (one or a CSV file), revoking, suspending and reinstating, verifying;
learners' credentials and the
share links they control. The issuance service decides who sees what; the gateway checks roles and
organisations first."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.errors import bad_input
from gateway.schema.catalogue import MicroCredential, Provider, provider_by_id
from gateway.schema.common import JSON, PageInfo, ctx, page_size, parse_time
from gateway.services import error_of, seg
from mimis_platform.auth import Role

MAX_CSV_CHARACTERS = 5 * 1024 * 1024  # the issuance service's file limit


@strawberry.type(description="A link a learner made so that someone (an employer) can see and verify a credential.")
class ShareLink:
    token: str
    url: str
    credential_id: str
    created_at: datetime
    expires_at: datetime
    withdrawn_at: datetime | None

    @classmethod
    def of(cls, b: dict[str, Any]) -> ShareLink:
        return cls(token=b["token"], url=b["url"], credential_id=b["credential_id"],
                   created_at=parse_time(b["created_at"]) or datetime.min,
                   expires_at=parse_time(b["expires_at"]) or datetime.min,
                   withdrawn_at=parse_time(b.get("withdrawn_at")))


@strawberry.type(description="A credential issued to a learner for one exact version of a micro-credential.")
class IssuedCredential:
    id: strawberry.ID
    micro_credential_id: strawberry.ID
    version: int
    learner_ref: str = strawberry.field(description="A pseudonymous reference to the learner (no personal data).")
    issued_at: datetime
    status: str = strawberry.field(description="active | suspended | revoked (revoked is final and comes first)")
    revoked_at: datetime | None
    revocation_reason: str | None
    suspendable: bool = strawberry.field(description="It carries a suspension status entry (false for credentials "
                                                     "issued before suspension existed or in Open Badges 3.0's "
                                                     "single-entry form: revocable, not suspendable).")
    suspended_at: datetime | None
    suspension_reason: str | None
    reinstated_at: datetime | None = strawberry.field(description="When its latest suspension was lifted.")
    provider_id: strawberry.Private[str]

    @classmethod
    def of(cls, b: dict[str, Any]) -> IssuedCredential:
        return cls(id=strawberry.ID(b["credential_id"]), micro_credential_id=strawberry.ID(b["micro_credential_id"]),
                   version=b["version"], learner_ref=b["learner_ref"],
                   issued_at=parse_time(b["issued_at"]) or datetime.min, status=b["status"],
                   revoked_at=parse_time(b.get("revoked_at")), revocation_reason=b.get("revocation_reason"),
                   suspendable=bool(b.get("suspendable")), suspended_at=parse_time(b.get("suspended_at")),
                   suspension_reason=b.get("suspension_reason"), reinstated_at=parse_time(b.get("reinstated_at")),
                   provider_id=b["provider_id"])

    @strawberry.field(description="The provider that issued it.")
    async def provider(self, info: Info) -> Provider | None:
        return await provider_by_id(info, self.provider_id)

    @strawberry.field(description="The exact version the credential was issued against.")
    async def micro_credential(self, info: Info) -> MicroCredential | None:
        body = await ctx(info).versions.load((str(self.micro_credential_id), self.version))
        return MicroCredential.of_version(body) if body else None

    @strawberry.field(description="The share links of the learner's own credential (the learner only).")
    async def share_links(self, info: Info) -> list[ShareLink] | None:
        c = ctx(info)
        c.identity.require(Role.LEARNER)
        found = await c.services.get("issuance", f"/v1/me/credentials/{seg(str(self.id))}/shares", token=c.token)
        return [ShareLink.of(s) for s in found]


@strawberry.type
class IssuedCredentialConnection:
    nodes: list[IssuedCredential]
    page_info: PageInfo


@strawberry.type
class VerificationCheck:
    check: str
    ok: bool
    reason: str


@strawberry.type(description="What a verifier learns about a presented credential.")
class Verification:
    verified: bool
    verdict: str = strawberry.field(description="valid | invalid")
    credential_id: str | None
    checks: list[VerificationCheck]
    reasons: list[str] = strawberry.field(description="Why not, one line per failed check.")


@strawberry.type(description="A credential as its share link shows it.")
class SharedCredential:
    credential_id: str
    status: str
    expires_at: datetime | None
    credential: JSON = strawberry.field(description="The credential as JSON with its Data Integrity proof.")
    jws: str = strawberry.field(description="The same credential as a VC-JOSE compact JWS.")


@strawberry.input
class LearnerInput:
    name: str
    email: str
    date_of_birth: date | None = None
    personal_identity_number: str | None = strawberry.field(
        default=None, description="Optional; used only for a keyed look-up value, never stored or shown.")
    language: str = "sv"


@strawberry.input
class IssueCredentialInput:
    micro_credential_id: strawberry.ID
    version: int
    learner: LearnerInput
    grade: str | None = None
    assessed_on: date | None = None
    evidence_url: str | None = None


@strawberry.type
class BulkIssueRow:
    row: int
    ok: bool
    errors: list[str]
    credential_id: str | None


@strawberry.type(description="A CSV file's outcome: all rows issued, or none (each failed row says why).")
class BulkIssueResult:
    issued: int
    failed: int
    dry_run: bool
    rows: list[BulkIssueRow]


def _page(body: dict[str, Any]) -> IssuedCredentialConnection:
    end = body.get("next_cursor")
    return IssuedCredentialConnection(nodes=[IssuedCredential.of(i) for i in body["items"]],
                                      page_info=PageInfo(has_next_page=end is not None, end_cursor=end))


@strawberry.type
class CredentialQuery:
    @strawberry.field(description="Check a presented credential (a compact JWS, or JSON with a Data Integrity "
                                  "proof): signature, issuer, validity, revocation and suspension, catalogue "
                                  "version. Anyone.")
    async def verify_credential(self, info: Info, credential: JSON) -> Verification | None:
        body = await ctx(info).services.call("issuance", "POST", "/v1/verify", json={"credential": credential})
        return Verification(verified=body["verified"], verdict=body["verdict"], credential_id=body.get("credential_id"),
                            checks=[VerificationCheck(check=c["check"], ok=c["ok"], reason=c["reason"])
                                    for c in body["checks"]], reasons=body["reasons"])

    @strawberry.field(description="A credential a learner shared with you, by the link's token.")
    async def shared_credential(self, info: Info, token: str) -> SharedCredential | None:
        b = await ctx(info).services.get("issuance", f"/v1/shared/{seg(token)}", missing_is_none=True)
        if b is None:
            return None
        return SharedCredential(credential_id=b["credential_id"], status=b["status"],
                                expires_at=parse_time(b.get("expires_at")), credential=b["credential"], jws=b["jws"])

    @strawberry.field(description="Your credentials (learners).")
    async def my_credentials(self, info: Info, first: int | None = 20, after: str | None = None
                             ) -> IssuedCredentialConnection | None:
        c = ctx(info)
        c.identity.require(Role.LEARNER)
        params: dict[str, Any] = {"limit": page_size(info, first), **({"cursor": after} if after else {})}
        return _page(await c.services.get("issuance", "/v1/me/credentials", token=c.token, params=params))

    @strawberry.field(description="Credentials a provider issued (its members).")
    async def issued_credentials(self, info: Info, provider_id: strawberry.ID,
                                 micro_credential_id: strawberry.ID | None = None, first: int | None = 20,
                                 after: str | None = None) -> IssuedCredentialConnection | None:
        c = ctx(info)
        c.identity.require(Role.PROVIDER_MEMBER, organisation=str(provider_id))
        params: dict[str, Any] = {"limit": page_size(info, first), **({"cursor": after} if after else {})}
        if micro_credential_id:
            params["micro_credential_id"] = str(micro_credential_id)
        return _page(await c.services.get("issuance", f"/v1/providers/{seg(provider_id)}/credentials", token=c.token,
                                          params=params))


@strawberry.type
class CredentialMutation:
    @strawberry.mutation(description="Issue one credential to one learner (the provider's members).")
    async def issue_credential(self, info: Info, provider_id: strawberry.ID, input: IssueCredentialInput
                               ) -> IssuedCredential | None:
        c = ctx(info)
        c.identity.require(Role.PROVIDER_MEMBER, organisation=str(provider_id))
        learner = input.learner
        body: dict[str, Any] = {
            "micro_credential_id": str(input.micro_credential_id), "version": input.version,
            "learner": {"name": learner.name, "email": learner.email, "language": learner.language,
                        "date_of_birth": learner.date_of_birth.isoformat() if learner.date_of_birth else None,
                        "personal_identity_number": learner.personal_identity_number},
            "grade": input.grade, "assessed_on": input.assessed_on.isoformat() if input.assessed_on else None,
            "evidence_url": input.evidence_url,
        }
        issued = await c.services.call("issuance", "POST", f"/v1/providers/{seg(provider_id)}/credentials",
                                       token=c.token, json=body)
        return IssuedCredential.of(issued)

    @strawberry.mutation(description="Issue a credential per row of a CSV file (UTF-8; columns micro_credential_id, "
                                     "version, learner_name, learner_email, optional date_of_birth, "
                                     "personal_identity_number, language, grade, assessed_on, evidence_url). All rows "
                                     "are checked first; if one fails, nothing is issued.")
    async def bulk_issue_credentials(self, info: Info, provider_id: strawberry.ID, csv: str, dry_run: bool = False
                                     ) -> BulkIssueResult | None:
        c = ctx(info)
        c.identity.require(Role.PROVIDER_MEMBER, organisation=str(provider_id))
        if len(csv) > MAX_CSV_CHARACTERS:
            raise bad_input("the file is larger than 5 MiB", "csv", "too_large")
        b = await c.services.call("issuance", "POST", f"/v1/providers/{seg(provider_id)}/credentials/bulk",
                                  token=c.token, params={"dry_run": dry_run}, answers=(422,),
                                  files={"file": ("learners.csv", csv.encode(), "text/csv")})
        if "rows" not in b:  # refused as a whole (not a per-row report)
            raise error_of("issuance", 422, b)
        return BulkIssueResult(issued=b["issued"], failed=b["failed"], dry_run=b["dry_run"],
                               rows=[BulkIssueRow(row=r["row"], ok=r["ok"], errors=r["errors"],
                                                  credential_id=r.get("credential_id")) for r in b["rows"]])

    @strawberry.mutation(description="Revoke a credential for good, with a reason verifiers are shown.")
    async def revoke_credential(self, info: Info, id: strawberry.ID, reason: str) -> IssuedCredential | None:
        c = ctx(info)
        c.identity.require(Role.PROVIDER_MEMBER)
        b = await c.services.call("issuance", "POST", f"/v1/credentials/{seg(str(id))}/revocation", token=c.token,
                                  json={"reason": reason})
        return IssuedCredential.of(b)

    @strawberry.mutation(description="Suspend a credential until it is reinstated, with a reason verifiers are shown "
                                     "(the provider's members). A revoked credential cannot be suspended, nor can one "
                                     "issued without a suspension entry (before suspension existed, or in Open Badges "
                                     "3.0's single-entry form).")
    async def suspend_credential(self, info: Info, id: strawberry.ID, reason: str) -> IssuedCredential | None:
        c = ctx(info)
        c.identity.require(Role.PROVIDER_MEMBER)
        b = await c.services.call("issuance", "POST", f"/v1/credentials/{seg(str(id))}/suspension", token=c.token,
                                  json={"reason": reason})
        return IssuedCredential.of(b)

    @strawberry.mutation(description="Lift a credential's suspension: verifiers see it valid again (the provider's "
                                     "members).")
    async def reinstate_credential(self, info: Info, id: strawberry.ID, reason: str | None = None
                                   ) -> IssuedCredential | None:
        c = ctx(info)
        c.identity.require(Role.PROVIDER_MEMBER)
        b = await c.services.call("issuance", "DELETE", f"/v1/credentials/{seg(str(id))}/suspension", token=c.token,
                                  params={"reason": reason} if reason is not None else None)
        return IssuedCredential.of(b)

    @strawberry.mutation(description="Make a share link for one of your credentials (learners).")
    async def share_credential(self, info: Info, id: strawberry.ID, expires_in_days: int = 30) -> ShareLink | None:
        c = ctx(info)
        c.identity.require(Role.LEARNER)
        b = await c.services.call("issuance", "POST", f"/v1/me/credentials/{seg(str(id))}/shares", token=c.token,
                                  json={"expires_in_days": expires_in_days})
        return ShareLink.of(b)

    @strawberry.mutation(description="Withdraw one of your share links at once (learners).")
    async def withdraw_share_link(self, info: Info, token: str) -> bool | None:
        c = ctx(info)
        c.identity.require(Role.LEARNER)
        await c.services.call("issuance", "DELETE", f"/v1/me/shares/{seg(token)}", token=c.token)
        return True
