"""Event handlers of the quality service and their routing table (event type -> handler)."""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.client_session import AsyncClientSession

from mimis_platform.consumer import Handler
from mimis_platform.envelope import Event
from services.quality.domain import KnownMicroCredential
from services.quality.storage import QualityStore

CREDENTIAL_DRAFTED = "catalog.credential.drafted.v1"


async def on_credential_drafted(event: Event, session: AsyncClientSession, *, store: QualityStore) -> None:
    data = event.data
    await store.record(
        KnownMicroCredential(
            micro_credential_id=data["micro_credential_id"], version=data["version"],
            provider_id=data["provider_id"], title_sv=data["title"]["sv"], title_en=data["title"].get("en"),
            drafted_at=datetime.fromisoformat(data["drafted_at"].replace("Z", "+00:00")),
        ),
        session,
    )


def routes(store: QualityStore) -> dict[str, Handler]:
    async def drafted(event: Event, session: AsyncClientSession) -> None:
        await on_credential_drafted(event, session, store=store)

    return {CREDENTIAL_DRAFTED: drafted}
