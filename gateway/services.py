"""Calls to the MIMIS services over HTTP, with the caller's bearer token forwarded so that each
service checks authorisation itself (the gateway is not the only wall).

Every failure becomes a :class:`GatewayError` with a stable code: a service that does not answer
in time, refuses the connection or fails (5xx) is ``SERVICE_UNAVAILABLE`` with the service named
(a 503 in the shared error shape, a deliberate "not now" such as ``export_incomplete``, keeps its
reason code and message); its 4xx answers keep their meaning (the shared error shape of every MIMIS API is read for the
message and the field errors).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from gateway.errors import ErrorCode, GatewayError
from mimis_platform.logs import get_logger

_log = get_logger(__name__)

_CODES = {401: ErrorCode.UNAUTHENTICATED, 403: ErrorCode.FORBIDDEN, 404: ErrorCode.NOT_FOUND,
          409: ErrorCode.CONFLICT, 422: ErrorCode.BAD_USER_INPUT, 400: ErrorCode.BAD_USER_INPUT,
          405: ErrorCode.FORBIDDEN}


def seg(value: object) -> str:
    """One path segment of a service URL made from a caller's argument: percent-encoded whole, so an id
    can never add a segment, climb with ``..``, start a query or carry a control character."""
    text = str(value)
    if text in ("", ".", "..") or len(text) > 500:
        raise GatewayError(ErrorCode.BAD_USER_INPUT, "not an id this API gives out",
                           field_errors=[{"field": "id", "message": "not an id this API gives out",
                                          "type": "invalid_id"}])
    return quote(text, safe="")


class Services:
    """One HTTP client shared by every request; ``token`` is the caller's (or None)."""

    def __init__(self, http: httpx.AsyncClient, urls: dict[str, str]) -> None:
        self.http, self.urls = http, urls

    async def call(self, service: str, method: str, path: str, *, token: str | None = None, params: Any = None,
                   json: Any = None, files: Any = None, missing_is_none: bool = False,
                   answers: tuple[int, ...] = ()) -> Any:
        """The service's JSON answer; ``answers`` are further statuses whose body the caller reads itself."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        try:
            answer = await self.http.request(method, f"{self.urls[service]}{path}", params=params, json=json,
                                             files=files, headers=headers)
        except httpx.InvalidURL as exc:  # seg() keeps arguments out of this; a last line of defence
            raise GatewayError(ErrorCode.BAD_USER_INPUT, "an argument cannot be part of a request") from exc
        except httpx.TimeoutException as exc:
            _log.warning("service timed out", service=service, path=path)
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, f"the {service} service did not answer in time",
                               service=service) from exc
        except httpx.HTTPError as exc:
            _log.warning("service unreachable", service=service, path=path, error=type(exc).__name__)
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, f"the {service} service cannot be reached",
                               service=service) from exc
        if answer.status_code < 300 or answer.status_code in answers:
            return answer.json() if answer.content else None
        if answer.status_code == 404 and missing_is_none:
            return None
        if answer.status_code >= 500:
            _log.warning("service failed", service=service, path=path, status=answer.status_code)
            if answer.status_code == 503:  # "not now": its reason and message are meant for the client
                body = _body(answer)
                if body.get("error"):
                    raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE,
                                       str(body.get("message") or f"the {service} service cannot answer now"),
                                       service=service, reason=str(body["error"]))
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, f"the {service} service failed to answer",
                               service=service)
        raise _client_error(service, answer)

    async def get(self, service: str, path: str, **options: Any) -> Any:
        return await self.call(service, "GET", path, **options)


def _body(answer: httpx.Response) -> dict[str, Any]:
    """The answer's body in the shared error shape, or {}."""
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _client_error(service: str, answer: httpx.Response) -> GatewayError:
    return error_of(service, answer.status_code, _body(answer))


def error_of(service: str, status: int, body: Any) -> GatewayError:
    """The GatewayError for a service's refusal in the shared error shape."""
    body = body if isinstance(body, dict) else {}
    message = str(body.get("message") or f"the {service} service refused ({status})")
    field_errors = [
        {"field": str(e.get("field", "")), "message": str(e.get("message", "")),
         "type": str(e.get("type", ""))}
        for e in body.get("errors") or [] if isinstance(e, dict)
    ]
    code = _CODES.get(status, ErrorCode.BAD_USER_INPUT)
    return GatewayError(code, message, service=service, field_errors=field_errors or None,
                        reason=str(body["error"]) if body.get("error") else None)

