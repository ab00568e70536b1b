"""The catalogue: micro-credentials, their providers and pathways, and the search over them."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.errors import ErrorCode, GatewayError, bad_input
from gateway.schema.common import JSON, LocalizedText, PageInfo, ctx, page_size, parse_time
from gateway.schema.selection import asks_for
from gateway.schema.transparency import ReviewSummary, summary_of
from gateway.services import seg


@strawberry.enum(description="Where a micro-credential is in its life.")
class MicroCredentialStatus(Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in-review"
    CHANGES_REQUESTED = "changes-requested"
    REJECTED = "rejected"
    APPROVED = "approved"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"
    RETIRED = "retired"


@strawberry.enum
class ProviderKind(Enum):
    UNIVERSITY = "university"
    ADULT_EDUCATION = "adult-education"
    CIVIL_SOCIETY = "civil-society"
    EMPLOYER = "employer"
    MUNICIPALITY = "municipality"
    REGION = "region"


@strawberry.enum(description="Form of participation.")
class Mode(Enum):
    ONLINE = "online"
    ONSITE = "onsite"
    BLENDED = "blended"
    WORK_BASED = "work-based"


@strawberry.enum
class Pacing(Enum):
    SELF_PACED = "self-paced"
    SUPERVISED = "supervised"


@strawberry.enum(description="Order of search results.")
class CatalogueSort(Enum):
    TITLE = "title"
    NEWEST = "-published"
    LEVEL = "level"
    WORKLOAD = "workload"


# --- providers ---------------------------------------------------------------------------------


@strawberry.type(description="Who to ask about a provider's micro-credentials.")
class Contact:
    name: str
    email: str
    phone: str | None


@strawberry.type(description="An organisation that offers micro-credentials.")
class Provider:
    id: strawberry.ID
    name: str
    kind: ProviderKind
    # The catalog's full answer; None while only what a search result carries (id, name, kind) is known,
    # so a page asking for providers' names and kinds costs no call for them.
    body: strawberry.Private[dict[str, Any] | None] = None

    @classmethod
    def of(cls, body: dict[str, Any]) -> Provider:
        d = body["details"]
        return cls(id=strawberry.ID(body["id"]), name=d["name"], kind=ProviderKind(d["kind"]), body=body)

    async def _details(self, info: Info) -> dict[str, Any]:
        if self.body is None:
            self.body = await ctx(info).providers.load(str(self.id))
        if self.body is None:
            raise GatewayError(ErrorCode.NOT_FOUND, f"provider {self.id} is gone", service="catalog")
        details: dict[str, Any] = self.body["details"]
        return details

    @strawberry.field(description="Swedish organisation number (NNNNNN-NNNN).")
    async def organisation_number(self, info: Info) -> str:
        return str((await self._details(info))["organisation_number"])

    @strawberry.field
    async def website(self, info: Info) -> str | None:
        return (await self._details(info)).get("website")

    @strawberry.field(description="NUTS code (SE224 = Skåne län).")
    async def region(self, info: Info) -> str:
        return str((await self._details(info))["region"])

    @strawberry.field(description="Who to ask about the provider's micro-credentials.")
    async def contact(self, info: Info) -> Contact:
        c = (await self._details(info))["contact"]
        return Contact(name=c["name"], email=c["email"], phone=c.get("phone"))

    @strawberry.field(description="The people acting for the provider; its members only.")
    async def members(self, info: Info) -> list[str] | None:
        await self._details(info)
        assert self.body is not None
        members: list[str] | None = self.body.get("members")
        return members

    @strawberry.field(description="The provider's published micro-credentials.")
    async def micro_credentials(self, info: Info, first: int | None = None,
                                after: str | None = None) -> MicroCredentialConnection:
        return await search(info, CatalogueFilter(providers=[str(self.id)]), CatalogueSort.TITLE, first, after)


async def provider_by_id(info: Info, provider_id: str) -> Provider | None:
    body = await ctx(info).providers.load(provider_id)
    return Provider.of(body) if body else None


# --- micro-credentials ---------------------------------------------------------------------------


@strawberry.type(description="What a learner can do after passing, tied to ESCO skills.")
class LearningOutcome:
    text: LocalizedText
    esco_skills: list[str]


@strawberry.type(description="The quality board's latest word on a version (shown to the provider's members).")
class ReviewFeedback:
    review_id: str
    decision: str | None
    comments: list[str]
    reason: str | None
    criteria_version: str | None
    decided_at: datetime | None


@strawberry.type(description="A micro-credential: one version of it, with the EU Council Recommendation's elements.")
class MicroCredential:
    id: strawberry.ID
    version: int
    status: MicroCredentialStatus
    title: LocalizedText
    description: LocalizedText
    eqf_level: int
    seqf_level: int | None
    ects: float | None
    hours: int | None = strawberry.field(description="Notional workload in hours, when the provider states it.")
    mode: Mode
    pacing: Pacing
    languages: list[str]
    branches: list[str]
    target_groups: list[str]
    pilots: list[str]
    esco_skills: list[str]
    price_sek: float | None
    published_at: datetime | None
    review_feedback: ReviewFeedback | None = strawberry.field(
        description="The latest review outcome and comments; the provider's members only.")
    provider_id: strawberry.Private[str]
    full: strawberry.Private[dict[str, Any] | None]
    listed_provider: strawberry.Private[Provider | None] = None  # what a search result says of the provider

    @classmethod
    def of_search_item(cls, item: dict[str, Any]) -> MicroCredential:
        return cls(
            id=strawberry.ID(item["id"]), version=item["version"], status=MicroCredentialStatus.PUBLISHED,
            title=_text(item["title"]), description=_text(item["description"]), eqf_level=item["eqf"],
            seqf_level=item.get("seqf"), ects=_number(item.get("ects")), hours=item.get("hours"),
            mode=Mode(item["mode"]), pacing=Pacing(item["pacing"]), languages=item["languages"],
            branches=item["branches"], target_groups=item["target_groups"], pilots=item["pilots"],
            esco_skills=item["esco_skills"], price_sek=_number(item.get("price_sek")),
            published_at=parse_time(item.get("published_at")), review_feedback=None,
            provider_id=item["provider_id"], full=None,
            listed_provider=Provider(id=strawberry.ID(item["provider_id"]), name=item["provider_name"],
                                     kind=ProviderKind(item["provider_kind"])),
        )

    @classmethod
    def of_version(cls, body: dict[str, Any]) -> MicroCredential:
        c = body["content"]
        skills: dict[str, None] = {}
        for outcome in c["learning_outcomes"]:
            skills.update(dict.fromkeys(outcome.get("esco_skills") or []))
        review = body.get("review")
        return cls(
            id=strawberry.ID(body["micro_credential_id"]), version=body["version"],
            status=MicroCredentialStatus(body["status"]), title=_text(c["title"]), description=_text(c["description"]),
            eqf_level=c["level"]["eqf"], seqf_level=c["level"].get("seqf"), ects=_number(c["workload"].get("ects")),
            hours=c["workload"].get("hours"), mode=Mode(c["participation"]["mode"]),
            pacing=Pacing(c["participation"]["pacing"]), languages=c["languages"], branches=c["branches"],
            target_groups=c.get("target_groups") or [], pilots=c.get("pilots") or [], esco_skills=list(skills),
            price_sek=_number((c.get("price") or {}).get("amount_sek")),
            published_at=parse_time(body.get("published_at")),
            review_feedback=ReviewFeedback(
                review_id=review["review_id"], decision=review.get("decision"), comments=review["comments"],
                reason=review.get("reason"), criteria_version=review.get("criteria_version"),
                decided_at=parse_time(review.get("decided_at"))) if review else None,
            provider_id=body["provider_id"], full=body,
        )

    async def _full(self, info: Info) -> dict[str, Any]:
        if self.full is None:
            self.full = await ctx(info).versions.load((str(self.id), self.version))
        if self.full is None:
            raise bad_input(f"version {self.version} of {self.id} is no longer visible", "id", "not_found")
        return self.full

    @strawberry.field(description="The provider that offers it.")
    async def provider(self, info: Info) -> Provider | None:
        if self.listed_provider is not None:
            return self.listed_provider
        return await provider_by_id(info, self.provider_id)

    @strawberry.field(description="What a learner can do after passing.")
    async def learning_outcomes(self, info: Info) -> list[LearningOutcome]:
        content = (await self._full(info))["content"]
        return [LearningOutcome(text=_text(o["text"]), esco_skills=o.get("esco_skills") or [])
                for o in content["learning_outcomes"]]

    @strawberry.field(description="Every element of this version as the catalog stores it (the EU mandatory and "
                                  "optional elements and the region's codes; JSON Schema: "
                                  "mimis_platform/contracts/shared/micro-credential-content.v1.json).")
    async def content(self, info: Info) -> JSON:
        return (await self._full(info))["content"]

    @strawberry.field(description="How the quality board reviewed it (public; null before any approval).")
    async def review_summary(self, info: Info) -> ReviewSummary | None:
        return await summary_of(info, str(self.id))


def _text(value: dict[str, Any]) -> LocalizedText:
    return LocalizedText(sv=str(value.get("sv", "")), en=value.get("en"))


def _number(value: Any) -> float | None:
    return float(value) if value is not None else None


# --- search ---------------------------------------------------------------------------------------


@strawberry.input(description="Filters: OR within one list, AND between fields.")
class CatalogueFilter:
    text: str | None = strawberry.field(default=None, description="Free text, Swedish or English; prefixes match.")
    skills: list[str] | None = strawberry.field(default=None, description="ESCO skill URIs.")
    branches: list[str] | None = None
    levels: list[int] | None = strawberry.field(default=None, description="EQF (= SeQF) levels 1..8.")
    providers: list[str] | None = None
    provider_kinds: list[ProviderKind] | None = None
    languages: list[str] | None = None
    modes: list[Mode] | None = None
    pacings: list[Pacing] | None = None
    target_groups: list[str] | None = None
    pilots: list[str] | None = None
    ects_min: float | None = None
    ects_max: float | None = None
    hours_min: int | None = None
    hours_max: int | None = None

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, param in (("text", "q"), ("skills", "skills"), ("branches", "branches"), ("levels", "levels"),
                            ("providers", "providers"), ("languages", "languages"),
                            ("target_groups", "target_groups"), ("pilots", "pilots"), ("ects_min", "ects_min"),
                            ("ects_max", "ects_max"), ("hours_min", "hours_min"), ("hours_max", "hours_max")):
            value = getattr(self, name)
            if value is not None and value != []:
                out[param] = value
        for name in ("provider_kinds", "modes", "pacings"):
            values = getattr(self, name)
            if values:
                out[name] = [v.value for v in values]
        return out


@strawberry.type
class FacetValue:
    value: str
    count: int = strawberry.field(description="Entries with this value under every filter except this facet's own.")


@strawberry.type(description="Disjunctive facet counts: ticking a value adds `count` entries.")
class Facet:
    name: str
    values: list[FacetValue]


@strawberry.type
class MicroCredentialEdge:
    node: MicroCredential
    cursor: str | None = strawberry.field(
        description="Set on the last edge of a page (the catalogue's keyset cursors mark page ends only).")


@strawberry.type(description="A page of micro-credentials (Relay cursor connection, forward paging).")
class MicroCredentialConnection:
    edges: list[MicroCredentialEdge]
    page_info: PageInfo
    total_count: int | None = strawberry.field(description="Entries matching every filter.")
    facets: list[Facet]

    @strawberry.field
    def nodes(self) -> list[MicroCredential]:
        return [e.node for e in self.edges]


_FACET_NAMES = {"branches": "branches", "levels": "levels", "modes": "modes", "languages": "languages",
                "provider_kinds": "providerKinds", "target_groups": "targetGroups", "pilots": "pilots"}


async def search(info: Info, filter: CatalogueFilter | None, sort: CatalogueSort, first: int | None,
                 after: str | None) -> MicroCredentialConnection:
    size = page_size(info, first)
    wants_counts = asks_for(info, "totalCount", "facets")
    params = {**(filter.params() if filter else {}), "sort": sort.value, "limit": size,
              "facets": "true" if wants_counts else "false"}
    if after:
        params["cursor"] = after
    page = await ctx(info).searches.load(json.dumps(params, sort_keys=True))
    nodes = [MicroCredential.of_search_item(i) for i in page["items"]]
    end = page.get("next_cursor")
    edges = [MicroCredentialEdge(node=n, cursor=end if i == len(nodes) - 1 else None) for i, n in enumerate(nodes)]
    facets = [Facet(name=_FACET_NAMES.get(name, name),
                    values=[FacetValue(value=str(v["value"]), count=v["count"]) for v in values])
              for name, values in (page.get("facets") or {}).items()]
    return MicroCredentialConnection(edges=edges, page_info=PageInfo(has_next_page=end is not None, end_cursor=end),
                                     total_count=page.get("total"), facets=facets)


# --- pathways ----------------------------------------------------------------------------------------


@strawberry.type(description="A stackable set of micro-credentials toward a role or a larger qualification.")
class Pathway:
    id: strawberry.ID
    title: LocalizedText
    description: LocalizedText
    leads_to: LocalizedText
    esco_occupation: str | None
    branches: list[str]
    rule: str = strawberry.field(description="all | required-plus-minimum | minimum: what completes the pathway.")
    minimum: int | None
    owner_provider_id: strawberry.Private[str | None]
    member_ids: strawberry.Private[list[str]]
    required_ids: strawberry.Private[list[str]]

    @classmethod
    def of(cls, body: dict[str, Any]) -> Pathway:
        c = body["content"]
        return cls(id=strawberry.ID(body["id"]), title=_text(c["title"]), description=_text(c["description"]),
                   leads_to=_text(c["leads_to"]), esco_occupation=c.get("esco_occupation"), branches=c["branches"],
                   rule=c.get("rule", "all"), minimum=c.get("minimum"), owner_provider_id=body.get("owner_provider_id"),
                   member_ids=c["micro_credential_ids"], required_ids=c.get("required") or [])

    @strawberry.field(description="The provider that owns it; null for the region's own pathways.")
    async def owner(self, info: Info) -> Provider | None:
        return await provider_by_id(info, self.owner_provider_id) if self.owner_provider_id else None

    @strawberry.field(description="The micro-credentials in it (their published versions).")
    async def micro_credentials(self, info: Info) -> list[MicroCredential]:
        found = await asyncio.gather(*(micro_credential(info, i) for i in self.member_ids))
        return [m for m in found if m is not None]

    @strawberry.field
    def required_micro_credential_ids(self) -> list[strawberry.ID]:
        return [strawberry.ID(i) for i in self.required_ids]


@strawberry.type
class PathwayConnection:
    nodes: list[Pathway]
    page_info: PageInfo


async def micro_credential(info: Info, micro_credential_id: str, version: int | None = None) -> MicroCredential | None:
    c = ctx(info)
    if version is not None:
        body = await c.versions.load((micro_credential_id, version))
    else:
        body = await c.services.get("catalog", f"/micro-credentials/{seg(micro_credential_id)}", token=c.token,
                                    missing_is_none=True)
    return MicroCredential.of_version(body) if body else None


@strawberry.type
class CatalogueQuery:
    @strawberry.field(description="Search the published catalogue: free text, filters, facet counts, cursor pages.")
    async def micro_credentials(self, info: Info, filter: CatalogueFilter | None = None,
                                sort: CatalogueSort = CatalogueSort.TITLE, first: int | None = 20,
                                after: str | None = None) -> MicroCredentialConnection | None:
        return await search(info, filter, sort, first, after)

    @strawberry.field(description="A micro-credential: its published version, or an exact version; a provider's "
                                  "members also see drafts.")
    async def micro_credential(self, info: Info, id: strawberry.ID, version: int | None = None
                               ) -> MicroCredential | None:
        return await micro_credential(info, str(id), version)

    @strawberry.field(description="One provider.")
    async def provider(self, info: Info, id: strawberry.ID) -> Provider | None:
        return await provider_by_id(info, str(id))

    @strawberry.field(description="Every provider, by id.")
    async def providers(self, info: Info, first: int | None = 20, after: str | None = None) -> list[Provider] | None:
        params: dict[str, Any] = {"limit": page_size(info, first)}
        if after:
            params["cursor"] = after
        page = await ctx(info).services.get("catalog", "/providers", token=ctx(info).token, params=params)
        return [Provider.of(p) for p in page["items"]]

    @strawberry.field(description="Pathways toward roles and qualifications.")
    async def pathways(self, info: Info, first: int | None = 20, after: str | None = None) -> PathwayConnection | None:
        params: dict[str, Any] = {"limit": page_size(info, first)}
        if after:
            params["cursor"] = after
        page = await ctx(info).services.get("catalog", "/pathways", params=params)
        end = page.get("next_cursor")
        return PathwayConnection(nodes=[Pathway.of(p) for p in page["items"]],
                                 page_info=PageInfo(has_next_page=end is not None, end_cursor=end))

    @strawberry.field(description="One pathway.")
    async def pathway(self, info: Info, id: strawberry.ID) -> Pathway | None:
        body = await ctx(info).services.get("catalog", f"/pathways/{seg(id)}", missing_is_none=True)
        return Pathway.of(body) if body else None

    @strawberry.field(description="How the quality board reviewed a micro-credential (public).")
    async def review_summary(self, info: Info, micro_credential_id: strawberry.ID) -> ReviewSummary | None:
        return await summary_of(info, str(micro_credential_id))
