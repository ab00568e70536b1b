"""Personal data never reaches a log line or a span: a safety net under every service.

MIMIS code does not log learners' personal data on purpose; this module makes a mistake
harmless. Two rules, applied to every structured log line (a structlog processor, last before
rendering, so rendered exceptions are covered) and to every finished span before any exporter
sees it (a span processor wrapping the export processors):

* **by field**: values under keys that name personal data (``email``, ``date_of_birth``,
  ``personal_identity_number``, ``grade``, ``evidence_url``, ...; ``name`` inside a learner,
  recipient, subject or contact object) are replaced by ``[redacted]``, at any depth;
* **by shape**: in any text, e-mail addresses and Swedish personal identity numbers (checked
  with their check digit, so order numbers survive) are replaced wherever they appear, e.g. in
  an exception message or a database statement.

Free-text names cannot be recognised by shape; they are covered only by field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event as SpanEvent
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import Status
from structlog.typing import EventDict, WrappedLogger

from mimis_platform.swedish_ids import InvalidIdentifier, parse_personal_identity_number

REDACTED = "[redacted]"
REDACTED_EMAIL = "[redacted e-mail]"
REDACTED_PIN = "[redacted personal identity number]"

#: Keys whose values are personal data wherever they appear (compared lower-case, '-' as '_').
PERSONAL_KEYS = frozenset({
    "email", "e_mail", "email_address", "recipient_email", "learner_email", "contact_email",
    "date_of_birth", "birth_date", "birthdate", "dob",
    "personal_identity_number", "personnummer", "identity_number", "samordningsnummer", "coordination_number",
    "learner_name", "given_name", "family_name", "full_name", "recipient_name",
    "phone", "telephone", "phone_number", "address", "street_address",
    "grade", "evidence_url", "evidence",
})
#: Objects that describe a person: their ``name`` is the person's name.
PERSON_OBJECTS = frozenset({"learner", "recipient", "subject", "credentialsubject", "person", "contact", "owner"})

_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")
_DIGIT_RUN = re.compile(r"(?<!\d)(?:\d{8}|\d{6})[-+]?\d{4}(?!\d)")


def _normal(key: object) -> str:
    return str(key).lower().replace("-", "_")


def _pin_or_keep(match: re.Match[str]) -> str:
    try:
        parse_personal_identity_number(match.group(0))
    except InvalidIdentifier:
        return match.group(0)
    return REDACTED_PIN


def redact_text(text: str) -> str:
    if "@" in text:
        text = _EMAIL.sub(REDACTED_EMAIL, text)
    return _DIGIT_RUN.sub(_pin_or_keep, text) if any(c.isdigit() for c in text) else text


def redact(value: Any, key: str | None = None, parent: str | None = None) -> Any:
    """``value`` with personal data replaced; ``key`` is the field it sits under, ``parent`` the
    field of the object holding it."""
    if key is not None and value is not None:
        normal = _normal(key)
        if normal in PERSONAL_KEYS or (normal == "name" and parent is not None and _normal(parent) in PERSON_OBJECTS):
            return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact(v, str(k), key) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v, None, key) for v in value)
    return value


def redact_log_event(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: put it after ``format_exc_info`` so tracebacks are covered too."""
    return {k: redact(v, k) for k, v in event_dict.items()}


def _attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    # Span attribute keys are dotted (``db.statement``, ``learner.email``): judge by the last part.
    return {k: redact(v, k.rsplit(".", 1)[-1]) for k, v in (attributes or {}).items()}


class RedactingSpanProcessor(SpanProcessor):
    """Hands ``inner`` (an export processor) a copy of each finished span with personal data
    redacted from attributes, events (exception messages and stack traces) and status."""

    def __init__(self, inner: SpanProcessor) -> None:
        self.inner = inner

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.inner.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self.inner.on_end(redacted_span(span))

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def redacted_span(span: ReadableSpan) -> ReadableSpan:
    events: Sequence[SpanEvent] = [
        SpanEvent(e.name, _attributes(e.attributes), e.timestamp) for e in span.events
    ]
    status = span.status
    if status.description:
        status = Status(status.status_code, redact_text(status.description))
    return ReadableSpan(
        name=redact_text(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_attributes(span.attributes),
        events=events,
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
