"""One error shape for every MIMIS HTTP API, so a client handles errors the same way everywhere:

``{"error": "<stable code>", "message": "<for people>", "errors": [{"field": "title.sv", "message": ...}]}``
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException

# A service's own wording for a 405 on some of its paths (e.g. "the audit trail is append-only");
# returns None to keep the general message.
MethodNotAllowedMessage = Callable[[Request], str | None]


class FieldError(BaseModel):
    field: str
    message: str
    type: str


class ErrorBody(BaseModel):
    error: str
    message: str
    errors: list[FieldError] = []


class ApiError(Exception):
    """Raised by API code for an answer other than success; the status and code are stable."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


def _field_name(loc: tuple[Any, ...]) -> str:
    # FastAPI prefixes the location ("body", "query", ...); the client thinks in field names.
    parts = (
        [str(p) for p in loc[1:]] if loc and loc[0] in ("body", "query", "path", "header") else [str(p) for p in loc]
    )
    return ".".join(parts) or str(loc[0] if loc else "")


def install_error_handlers(app: FastAPI, method_not_allowed: MethodNotAllowedMessage | None = None) -> None:
    # Routing answers (404 for an unknown path, 405 for a method a path does not allow) would
    # otherwise come as {"detail": ...}; clients expect the one error shape of every MIMIS API.
    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        phrase = HTTPStatus(exc.status_code).phrase
        message = exc.detail if isinstance(exc.detail, str) else phrase
        if exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            message = (method_not_allowed(request) if method_not_allowed else None) or (
                f"{request.method} is not allowed here; this path allows {allowed}"
            )
        body = ErrorBody(error=phrase.lower().replace(" ", "_"), message=message)
        return JSONResponse(status_code=exc.status_code, content=body.model_dump(), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            FieldError(field=_field_name(tuple(e.get("loc", ()))), message=e.get("msg", ""), type=e.get("type", ""))
            for e in exc.errors()
        ]
        body = ErrorBody(
            error="validation_failed",
            message="; ".join(f"{e.field}: {e.message}" for e in errors) or "the request is not valid",
            errors=errors,
        )
        return JSONResponse(status_code=422, content=body.model_dump())

    @app.exception_handler(ConnectionFailure)
    async def _database_unreachable(_: Request, exc: ConnectionFailure) -> JSONResponse:
        # Includes server selection time-outs and a connection lost mid-request. A commit cut off
        # mid-way may or may not have landed, and the message says so.
        body = ErrorBody(error="database_unavailable",
                         message="the database is not reachable just now; try again in a few seconds "
                         "(a write cut off mid-way may have landed: look before repeating a create)")
        return JSONResponse(status_code=503, content=body.model_dump(), headers={"Retry-After": "5"})

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        body = ErrorBody(error=exc.code, message=exc.message, errors=exc.errors)
        return JSONResponse(status_code=exc.status, content=body.model_dump())


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorBody, "description": "The request failed validation; `errors` names each field and why."},
}
