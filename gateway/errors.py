"""Errors a client can act on: every error carries a stable ``extensions.code``.

| code | meaning |
| --- | --- |
| ``UNAUTHENTICATED`` | no valid bearer token or API key, and the field needs one |
| ``FORBIDDEN`` | the caller's roles or organisations do not allow it (the gateway's check or the service's) |
| ``NOT_FOUND`` | the thing named does not exist, or the caller may not know that it does |
| ``BAD_USER_INPUT`` | an argument is invalid; ``extensions.fieldErrors`` names each field |
| ``CONFLICT`` | the lifecycle refuses (e.g. submitting what is already submitted) |
| ``SERVICE_UNAVAILABLE`` | a service behind the field did not answer in time; ``extensions.service`` names it |
|  | (a service's deliberate "not now", e.g. ``export_incomplete``, is in ``extensions.reason``) |
| ``QUERY_TOO_DEEP``, ``QUERY_TOO_COMPLEX`` | the document asks too much; nothing ran |
| ``GRAPHQL_VALIDATION_FAILED``, ``GRAPHQL_PARSE_FAILED`` | the document is not valid; nothing ran |
| ``INTERNAL_SERVER_ERROR`` | a fault in the gateway; in production the message says no more |
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class GatewayError(Exception):
    """An error meant for the client: its message is safe to show, its code is stable."""

    def __init__(self, code: ErrorCode, message: str, *, service: str | None = None,
                 field_errors: list[dict[str, str]] | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        # graphql-core copies an original error's `extensions` dict into the GraphQL error.
        self.extensions: dict[str, Any] = {"code": code.value}
        if service:
            self.extensions["service"] = service
        if reason:
            self.extensions["reason"] = reason
        if field_errors:
            self.extensions["fieldErrors"] = field_errors


def unauthenticated(message: str = "this needs a bearer token or an API key") -> GatewayError:
    return GatewayError(ErrorCode.UNAUTHENTICATED, message)


def forbidden(message: str) -> GatewayError:
    return GatewayError(ErrorCode.FORBIDDEN, message)


def bad_input(message: str, field: str, reason: str = "invalid") -> GatewayError:
    return GatewayError(ErrorCode.BAD_USER_INPUT, message,
                        field_errors=[{"field": field, "message": message, "type": reason}])
