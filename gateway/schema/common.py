"""Types every part of the schema shares: localized text, page info, access checks, page sizes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.context import GatewayContext, context_of
from gateway.errors import bad_input

__all__ = ["JSON", "LocalizedText", "PageInfo", "ctx", "page_size", "parse_time"]


@strawberry.type(description="Text in Swedish (always) and English (when the author gave it).")
class LocalizedText:
    sv: str
    en: str | None

    @classmethod
    def of(cls, value: dict[str, Any] | None) -> LocalizedText | None:
        if not value:
            return None
        return cls(sv=str(value.get("sv", "")), en=value.get("en"))


@strawberry.type(description="Where a page ends (Relay cursor connections, forward paging).")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


def ctx(info: Info) -> GatewayContext:
    return context_of(info)


def page_size(info: Info, first: int | None, default: int = 20) -> int:
    """``first``, checked against the gateway's page-size cap."""
    cap = ctx(info).settings.max_page_size
    size = default if first is None else first
    if size < 1 or size > cap:
        raise bad_input(f"first must be between 1 and {cap}", "first", "page_size")
    return min(size, cap)


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
