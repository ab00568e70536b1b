"""The quality board's view of the catalogue (first slice: what has been drafted, per version).

Reviews, criteria and decisions arrive with the quality issue. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class KnownMicroCredential:
    """A micro-credential version the quality service has heard of from the catalog."""

    micro_credential_id: str
    version: int
    provider_id: str
    title_sv: str
    title_en: str | None
    drafted_at: datetime
