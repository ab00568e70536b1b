"""The catalog's outgoing events: domain events turned into contract-checked envelopes."""

from __future__ import annotations

from mimis_platform.envelope import Event
from services.catalog.domain import CredentialDrafted

SOURCE = "/mimis/catalog"
CREDENTIAL_DRAFTED = "catalog.credential.drafted.v1"


def credential_drafted(event: CredentialDrafted) -> Event:
    return Event(
        type=CREDENTIAL_DRAFTED,
        source=SOURCE,
        partition_key=event.micro_credential_id,
        subject=f"micro-credentials/{event.micro_credential_id}",
        time=event.drafted_at,
        data={
            "micro_credential_id": event.micro_credential_id,
            "version": event.version,
            "provider_id": event.provider_id,
            "title": event.title.model_dump(exclude_none=True),
            "drafted_at": event.drafted_at.isoformat().replace("+00:00", "Z"),
        },
    )
