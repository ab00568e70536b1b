"""The catalogue's domain: commands, entities and events as plain data, rules as pure functions.

No I/O here. (This is the first slice of the catalogue; the full EU element set, the lifecycle
and versions arrive with the catalog issue.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Status = Literal["draft"]


class LanguageMap(BaseModel):
    """Text in Swedish (required) and English (recommended), as the EU elements ask."""

    model_config = ConfigDict(extra="forbid")
    sv: Text
    en: Text | None = None


class DraftMicroCredential(BaseModel):
    """Command: a provider starts describing a new micro-credential."""

    model_config = ConfigDict(extra="forbid")
    provider_id: Identifier = Field(description="The provider's id in the catalogue (lower-case letters, digits, '-').")
    title: LanguageMap


@dataclass(frozen=True)
class MicroCredentialVersion:
    id: str
    version: int
    provider_id: str
    title: LanguageMap
    status: Status
    created_at: datetime


@dataclass(frozen=True)
class CredentialDrafted:
    """Event: a new micro-credential draft exists."""

    micro_credential_id: str
    version: int
    provider_id: str
    title: LanguageMap
    drafted_at: datetime


def draft_micro_credential(
    command: DraftMicroCredential, *, new_id: str, now: datetime
) -> tuple[MicroCredentialVersion, list[CredentialDrafted]]:
    draft = MicroCredentialVersion(
        id=new_id, version=1, provider_id=command.provider_id, title=command.title, status="draft", created_at=now,
    )
    return draft, [CredentialDrafted(new_id, 1, command.provider_id, command.title, now)]
