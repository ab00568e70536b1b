"""A provider's own work: its drafts, and the commands to create, edit and submit them.

The gateway lets a ``provider-member`` act only for the organisations in the token's ``org``
claim; the catalog then checks that the person is one of the provider's members.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from gateway.schema.catalogue import MicroCredential, MicroCredentialStatus
from gateway.schema.common import JSON, PageInfo, ctx, page_size
from gateway.services import seg
from mimis_platform.auth import Role


@strawberry.type(description="A page of a provider's versions, drafts included, most recently changed first.")
class DraftConnection:
    nodes: list[MicroCredential]
    page_info: PageInfo


async def _owned(info: Info, micro_credential_id: str, version: int) -> None:
    """Refuse early when the version belongs to an organisation the caller does not act for."""
    c = ctx(info)
    c.identity.require(Role.PROVIDER_MEMBER)
    body = await c.versions.load((micro_credential_id, version))
    if body is not None:
        c.identity.require(Role.PROVIDER_MEMBER, organisation=body["provider_id"])


@strawberry.type
class DraftQuery:
    @strawberry.field(description="A provider's own versions, drafts and those in review included (its members).")
    async def provider_drafts(self, info: Info, provider_id: strawberry.ID,
                              statuses: list[MicroCredentialStatus] | None = None, first: int | None = 20,
                              after: str | None = None) -> DraftConnection | None:
        c = ctx(info)
        c.identity.require(Role.PROVIDER_MEMBER, organisation=str(provider_id))
        params: dict[str, Any] = {"limit": page_size(info, first)}
        if statuses:
            params["status"] = [s.value for s in statuses]
        if after:
            params["cursor"] = after
        page = await c.services.get("catalog", f"/providers/{seg(provider_id)}/micro-credentials", token=c.token,
                                    params=params)
        end = page.get("next_cursor")
        return DraftConnection(nodes=[MicroCredential.of_version(v) for v in page["items"]],
                               page_info=PageInfo(has_next_page=end is not None, end_cursor=end))


@strawberry.type
class DraftMutation:
    @strawberry.mutation(description="Start a new micro-credential (version 1, a draft). `content` holds every EU "
                                     "element (JSON Schema: mimis_platform/contracts/shared/"
                                     "micro-credential-content.v1.json); invalid fields come back in "
                                     "extensions.fieldErrors.")
    async def create_micro_credential(self, info: Info, provider_id: strawberry.ID, content: JSON
                                      ) -> MicroCredential | None:
        c = ctx(info)
        c.identity.require(Role.PROVIDER_MEMBER, organisation=str(provider_id))
        body = await c.services.call("catalog", "POST", "/micro-credentials", token=c.token,
                                     json={"provider_id": str(provider_id), "content": content})
        return MicroCredential.of_version(body)

    @strawberry.mutation(description="Replace the content of a draft, or of a version the board sent back.")
    async def edit_micro_credential(self, info: Info, id: strawberry.ID, version: int, content: JSON
                                    ) -> MicroCredential | None:
        await _owned(info, str(id), version)
        c = ctx(info)
        body = await c.services.call("catalog", "PUT", f"/micro-credentials/{seg(id)}/versions/{seg(version)}",
                                     token=c.token, json=content)
        return MicroCredential.of_version(body)

    @strawberry.mutation(description="Send a draft to the quality board.")
    async def submit_micro_credential(self, info: Info, id: strawberry.ID, version: int) -> MicroCredential | None:
        await _owned(info, str(id), version)
        c = ctx(info)
        body = await c.services.call("catalog", "POST", f"/micro-credentials/{seg(id)}/versions/{seg(version)}/submit",
                                     token=c.token)
        return MicroCredential.of_version(body)

    @strawberry.mutation(description="Start the next version after a published (or closed) one; without `content` "
                                     "it starts from the latest version's.")
    async def start_new_version(self, info: Info, id: strawberry.ID, content: JSON | None = None
                                ) -> MicroCredential | None:
        c = ctx(info)
        c.identity.require(Role.PROVIDER_MEMBER)
        body = await c.services.call("catalog", "POST", f"/micro-credentials/{seg(id)}/versions", token=c.token,
                                     json={"content": content})
        return MicroCredential.of_version(body)
