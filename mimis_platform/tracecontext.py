"""Trace context as a plain mapping, so it can be stored with an outbox event and carried in
Kafka headers: a consumer's span becomes a child of the request that caused the event."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import propagate


def current_trace_context() -> dict[str, str]:
    """The active span's W3C ``traceparent``/``tracestate`` (empty when nothing is traced)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return {k: v for k, v in carrier.items() if k in ("traceparent", "tracestate")}


def context_from(trace_context: Mapping[str, str]) -> otel_context.Context:
    """The OpenTelemetry context a stored or received trace context describes."""
    return propagate.extract(dict(trace_context))
