"""Tracing for every service: one OpenTelemetry tracer provider per process, named after the
service, plus the library instrumentation every service needs (FastAPI, PyMongo, httpx).

Call :func:`setup_tracing` in the composition root *before* creating MongoDB clients: PyMongo
copies its global command listeners into a client when the client is built, so a client made
earlier is never traced. Trace context over Kafka is not set up here; the consumer and the
outbox relay carry it in message headers (see :mod:`mimis_platform.tracecontext`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Literal

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

from mimis_platform.redaction import RedactingSpanProcessor

Exporter = Literal["none", "console", "otlp"]

#: Probes hit these every few seconds; tracing them would bury real requests.
#: Regexes are searched in the URL without its query string (and may contain no commas).
UNTRACED_PATHS = (r"/healthz$", r"/readyz$")

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_provider: TracerProvider | None = None
_first_request: tuple[str, Exporter] | None = None
_added_processors: list[SpanProcessor] = []


def setup_tracing(
    service_name: str,
    exporter: Exporter = "none",
    otlp_endpoint: str = "http://127.0.0.1:4318",
    extra_processors: Sequence[SpanProcessor] = (),
) -> TracerProvider:
    """Install the process's tracer provider (once) and instrument PyMongo and httpx.

    OpenTelemetry lets the global provider be set only once per process, so a second call returns
    the provider already installed and only adds the ``extra_processors`` it has not seen (tests use
    this to attach an in-memory exporter); its ``service_name`` and ``exporter`` are ignored.
    With ``exporter="none"`` spans are still created, so trace ids reach logs and Kafka headers.
    """
    global _provider, _first_request
    with _lock:
        if _provider is None:
            _provider = _install_provider(service_name, exporter, otlp_endpoint)
            _first_request = (service_name, exporter)
            _instrument_libraries(_provider)
        elif _first_request is not None and _first_request != (service_name, exporter):
            _log.warning(
                "tracing was already set up as %s with exporter %r; keeping that, ignoring %s/%r",
                *_first_request, service_name, exporter,
            )
        for processor in extra_processors:
            if not any(processor is added for added in _added_processors):
                _provider.add_span_processor(RedactingSpanProcessor(processor))
                _added_processors.append(processor)
        return _provider


def instrument_app(app: FastAPI) -> None:
    """Trace every HTTP request to ``app`` except the health probes; incoming ``traceparent``
    headers make the request's span a child of the caller's."""
    FastAPIInstrumentor.instrument_app(
        app,
        excluded_urls=",".join(UNTRACED_PATHS),
        # The per-message ASGI receive/send spans double the span count of every request and
        # say nothing the server span does not; at verification bursts that is pure cost.
        exclude_spans=["receive", "send"],
    )


def _install_provider(service_name: str, exporter: Exporter, otlp_endpoint: str) -> TracerProvider:
    existing = trace.get_tracer_provider()
    if isinstance(existing, TracerProvider):
        # Someone (auto-instrumentation, a test harness) installed an SDK provider first; a second
        # provider could not become global, and spans made with it would be orphans.
        _log.info("adopting the tracer provider already installed in this process")
        return existing
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    processor = _export_processor(exporter, otlp_endpoint)
    if processor is not None:
        provider.add_span_processor(RedactingSpanProcessor(processor))  # no personal data leaves the process
    trace.set_tracer_provider(provider)
    return provider


def _export_processor(exporter: Exporter, otlp_endpoint: str) -> SpanProcessor | None:
    if exporter == "none":
        return None
    if exporter == "console":
        # Console output is for a developer watching one process: print each span as it ends.
        return SimpleSpanProcessor(ConsoleSpanExporter())
    if exporter == "otlp":
        # Imported here so services that do not export skip loading protobuf and requests.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return BatchSpanProcessor(OTLPSpanExporter(endpoint=_traces_url(otlp_endpoint)))
    raise ValueError(f"unknown trace exporter {exporter!r}; expected 'none', 'console' or 'otlp'")


def _traces_url(otlp_endpoint: str) -> str:
    """The collector's base URL (as in ``OTEL_EXPORTER_OTLP_ENDPOINT``) or its full traces URL."""
    base = otlp_endpoint.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def _instrument_libraries(provider: TracerProvider) -> None:
    # PyMongo's command listeners serve its async client too (one monitoring API for both).
    for instrumentor in (PymongoInstrumentor(), HTTPXClientInstrumentor()):
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider)
