"""Spans for HTTP requests, their MongoDB calls and outbound HTTP, all in one trace; the trace
context helpers continue a request's trace elsewhere (as a Kafka consumer does)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from mimis_platform.health import health_router
from mimis_platform.localstack import LocalStack
from mimis_platform.mongo import new_client
from mimis_platform.telemetry import instrument_app, setup_tracing
from mimis_platform.tracecontext import context_from, current_trace_context

# -- fixtures (span_exporter and session_span_exporter come from mimis_platform/testing.py) ------


@pytest.fixture
async def traced_mongo_client(session_span_exporter: InMemorySpanExporter, stack: LocalStack):
    # A client of its own: PyMongo gives a client the command listeners registered when it was
    # built, and the session's shared client may predate setup_tracing.
    client = new_client(stack.mongo_url)
    yield client
    await client.close()


# -- helpers --------------------------------------------------------------------------------------


def hex_ids(span: ReadableSpan) -> tuple[str, str]:
    assert span.context is not None
    return trace.format_trace_id(span.context.trace_id), trace.format_span_id(span.context.span_id)


def traceparent(span: ReadableSpan) -> str:
    """The W3C header naming ``span``; the SDK also sets the level-2 "random trace id" flag (0x02)."""
    assert span.context is not None and span.context.trace_flags.sampled
    trace_id, span_id = hex_ids(span)
    return f"00-{trace_id}-{span_id}-{int(span.context.trace_flags):02x}"


def only(spans: list[ReadableSpan], kind: SpanKind, name_part: str = "") -> ReadableSpan:
    found = [s for s in spans if s.kind == kind and name_part in s.name]
    assert len(found) == 1, [(s.name, s.kind) for s in spans]
    return found[0]


def app_with_items(traced_mongo_client, database: str) -> FastAPI:
    app = FastAPI()
    app.include_router(health_router({}))
    items = traced_mongo_client[database]["items"]

    @app.put("/items/{item_id}")
    async def put_item(item_id: str) -> dict[str, object]:
        await items.replace_one({"_id": item_id}, {"_id": item_id}, upsert=True)
        return {"id": item_id, "trace_context": current_trace_context()}

    instrument_app(app)
    return app


def http_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")


# -- tests ----------------------------------------------------------------------------------------


async def test_a_request_and_its_mongodb_call_share_one_trace(
    span_exporter, traced_mongo_client, unique_name: str
) -> None:
    database = f"test_{unique_name}"
    try:
        async with http_client(app_with_items(traced_mongo_client, database)) as client:
            response = await client.put("/items/a1")
        assert response.status_code == 200
        spans = list(span_exporter.get_finished_spans())

        server = only(spans, SpanKind.SERVER)
        assert server.name == "PUT /items/{item_id}"
        assert server.resource.attributes["service.name"] == "mimis-tests"
        mongo = only(spans, SpanKind.CLIENT)
        assert mongo.name == f"{database}.update"  # replace_one is an update command on the wire
        assert mongo.context is not None and server.context is not None
        assert mongo.context.trace_id == server.context.trace_id
        assert mongo.parent is not None and mongo.parent.span_id == server.context.span_id
    finally:
        await traced_mongo_client.drop_database(database)


async def test_the_request_trace_context_continues_elsewhere(
    span_exporter, traced_mongo_client, unique_name: str
) -> None:
    database = f"test_{unique_name}"
    try:
        async with http_client(app_with_items(traced_mongo_client, database)) as client:
            stored = (await client.put("/items/b2")).json()["trace_context"]
        server = only(list(span_exporter.get_finished_spans()), SpanKind.SERVER)
        trace_id, span_id = hex_ids(server)
        # What the outbox would store with the event: the request's own span.
        assert stored == {"traceparent": traceparent(server)}

        span_exporter.clear()
        tracer = trace.get_tracer("consumer")
        with tracer.start_as_current_span(
            "handle event", context=context_from(stored), kind=SpanKind.CONSUMER
        ):
            pass
        consumer = only(list(span_exporter.get_finished_spans()), SpanKind.CONSUMER)
        assert hex_ids(consumer)[0] == trace_id
        assert consumer.parent is not None and trace.format_span_id(consumer.parent.span_id) == span_id
    finally:
        await traced_mongo_client.drop_database(database)


async def test_an_incoming_traceparent_makes_the_request_a_child_of_the_caller(
    span_exporter, traced_mongo_client, unique_name: str
) -> None:
    caller_trace, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    database = f"test_{unique_name}"
    try:
        async with http_client(app_with_items(traced_mongo_client, database)) as client:
            await client.put("/items/c3", headers={"traceparent": f"00-{caller_trace}-{caller_span}-01"})
        server = only(list(span_exporter.get_finished_spans()), SpanKind.SERVER)
        assert hex_ids(server)[0] == caller_trace
        assert server.parent is not None and trace.format_span_id(server.parent.span_id) == caller_span
    finally:
        await traced_mongo_client.drop_database(database)


async def test_health_probes_are_not_traced(span_exporter, traced_mongo_client) -> None:
    async with http_client(app_with_items(traced_mongo_client, "unused")) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200
    assert span_exporter.get_finished_spans() == ()


async def test_outbound_httpx_calls_are_traced_and_carry_the_trace(span_exporter) -> None:
    received: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with trace.get_tracer("test").start_as_current_span("deliver webhook") as parent:
            async with httpx.AsyncClient() as client:
                response = await client.post(f"http://127.0.0.1:{port}/hook", content=b"{}")
        assert response.status_code == 204
    finally:
        server.close()
        await server.wait_closed()

    outbound = only(list(span_exporter.get_finished_spans()), SpanKind.CLIENT)
    assert outbound.parent is not None and outbound.parent.span_id == parent.get_span_context().span_id
    assert f"traceparent: {traceparent(outbound)}\r\n".encode() in received[0].lower()


def test_setting_up_again_keeps_the_provider_and_adds_new_processors(
    span_exporter: InMemorySpanExporter,
) -> None:
    first = setup_tracing("mimis-tests")
    second_exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(second_exporter)
    again = setup_tracing("another-name", exporter="console", extra_processors=[processor, processor])
    assert again is first is trace.get_tracer_provider()
    assert isinstance(again, TracerProvider)
    setup_tracing("mimis-tests", extra_processors=[processor])  # the same processor is not added twice

    with trace.get_tracer("test").start_as_current_span("once"):
        pass
    assert [s.name for s in second_exporter.get_finished_spans()] == ["once"]
    assert [s.name for s in span_exporter.get_finished_spans()] == ["once"]
    processor.shutdown()  # a shut-down processor drops later spans instead of collecting them
