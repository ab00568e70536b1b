"""Real servers the tests talk to over the wire: a webhook receiver, an SMTP server (aiosmtpd),
a stand-in for issuance's recipient endpoint, and an OAuth2 token endpoint. Each runs on a free
local port; nothing here is a mock of the code under test."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from mimis_platform.auth import TokenVerifier, Unauthenticated
from mimis_platform.localstack import free_port

HOST = "127.0.0.1"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


@dataclass
class HttpServer:
    """A threaded ``http.server`` running ``respond(handler, body) -> (status, headers, body)``."""

    respond: Callable[[BaseHTTPRequestHandler, bytes], tuple[int, dict[str, str], bytes]]
    port: int = field(default_factory=free_port)
    tls: ssl.SSLContext | None = None  # serve HTTPS with this server context

    def __post_init__(self) -> None:
        respond = self.respond

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, answer = respond(self, body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = _any

            def log_message(self, *args: Any) -> None:
                pass

        self._server = _Server((HOST, self.port), Handler)
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering: longer than the webhook timeout makes a timeout


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    """A partner's endpoint: records every request; answers from a script, then ``default``."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Received] = []
        self.script: list[Reply] = []
        self.default = Reply(200)
        self._lock = threading.Lock()
        self.server = HttpServer(self._respond, tls=tls)

    def _respond(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(Received(handler.path, {k.lower(): v for k, v in handler.headers.items()}, body))
            reply = self.script.pop(0) if self.script else self.default
        if reply.delay:
            time.sleep(reply.delay)  # the receiver is slow (this thread only); the sender's timeout decides
        return reply.status, reply.headers, b"ok"

    def answer(self, *replies: Reply) -> None:
        with self._lock:
            self.script.extend(replies)

    def url(self, path: str = "/hooks/mimis") -> str:
        return self.server.url + path

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.requests]

    def __enter__(self) -> WebhookReceiver:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


class _Mailbox:
    def __init__(self, refuse: Callable[[str], bool]) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self.refuse = refuse

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if self.refuse(address):
            return f"550 5.1.1 <{address}>: no such mailbox"  # as Postfix words it: the address quoted
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server (aiosmtpd) collecting what it is sent."""

    def __init__(self, refuse: Callable[[str], bool] = lambda _: False) -> None:
        self.port = free_port()
        self.mailbox = _Mailbox(refuse)
        self.controller = Controller(self.mailbox, hostname=HOST, port=self.port)

    @property
    def messages(self) -> list[tuple[str, list[str], EmailMessage]]:
        return self.mailbox.messages

    def to(self, address: str) -> list[EmailMessage]:
        return [m for _, rcpts, m in self.messages if address in rcpts]

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


class IssuanceRecipientEndpoint:
    """Issuance's recipient contract, served for real: ``GET /v1/internal/credentials/{id}/recipient``
    with a service token; 200 the contact, 404 unknown, 410 erased."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier
        self.recipients: dict[str, dict[str, str] | str] = {}
        self.calls: list[str] = []
        self.server = HttpServer(self._respond)

    def _respond(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        parts = handler.path.strip("/").split("/")
        if handler.command != "GET" or len(parts) != 5 or parts[:3] != ["v1", "internal", "credentials"] \
                or parts[4] != "recipient":
            return 404, {}, b'{"error":"not_found"}'
        scheme, _, token = (handler.headers.get("authorization") or "").partition(" ")
        try:
            principal = self.verifier.verify(token)
        except Unauthenticated:
            return 401, {}, b'{"error":"unauthenticated"}'
        if scheme.lower() != "bearer" or "service" not in principal.roles:
            return 403, {}, b'{"error":"forbidden"}'
        self.calls.append(parts[3])
        found = self.recipients.get(parts[3])
        if found is None:
            return 404, {"content-type": "application/json"}, b'{"error":"not_found"}'
        if found == "erased":
            return 410, {"content-type": "application/json"}, b'{"error":"erased","message":"the learner was erased"}'
        return 200, {"content-type": "application/json"}, json.dumps(found).encode()

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self) -> IssuanceRecipientEndpoint:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


class TokenEndpoint:
    """An OAuth2 token endpoint (client credentials, HTTP Basic client authentication)."""

    def __init__(self, client_id: str, client_secret: str, expires_in: int = 300) -> None:
        self.client_id, self.client_secret, self.expires_in = client_id, client_secret, expires_in
        self.requests: list[dict[str, str]] = []
        self.server = HttpServer(self._respond)

    def _respond(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        import base64
        from urllib.parse import parse_qsl

        form = dict(parse_qsl(body.decode()))
        self.requests.append(form)
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if handler.headers.get("authorization") != f"Basic {expected}":
            return 401, {"content-type": "application/json"}, b'{"error":"invalid_client"}'
        if form.get("grant_type") != "client_credentials":
            return 400, {"content-type": "application/json"}, b'{"error":"unsupported_grant_type"}'
        token = f"token-{len(self.requests)}"
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
        return 200, {"content-type": "application/json"}, json.dumps(answer).encode()

    @property
    def url(self) -> str:
        return self.server.url + "/oauth2/token"

    def __enter__(self) -> TokenEndpoint:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


