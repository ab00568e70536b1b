"""Log lines are JSON objects on stdout with the service name and the active span's ids, whether
they come from structlog or from a stdlib logger such as uvicorn's."""

from __future__ import annotations

import json
import logging
from datetime import datetime

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from mimis_platform.logs import get_logger, setup_logging

# A provider of the test's own: real span ids without depending on the process's global provider.
tracer = TracerProvider().get_tracer("test_logs")


pytestmark = pytest.mark.usefixtures("restore_logging")


def lines(captured: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


def span_ids(span: trace.Span) -> tuple[str, str]:
    context = span.get_span_context()
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)


def test_a_line_inside_a_span_carries_its_trace_and_span_id(capsys) -> None:
    setup_logging("catalog")
    log = get_logger("mimis.catalog")
    with tracer.start_as_current_span("publish micro-credential") as span:
        log.info("micro-credential published", micro_credential_id="mc-1")
    log.info("outside any span")

    inside, outside = lines(capsys.readouterr().out)
    trace_id, span_id = span_ids(span)
    assert inside["trace_id"] == trace_id and inside["span_id"] == span_id
    assert inside["event"] == "micro-credential published"
    assert inside["micro_credential_id"] == "mc-1"
    assert inside["service"] == "catalog"
    assert inside["level"] == "info"
    assert inside["logger"] == "mimis.catalog"
    assert datetime.fromisoformat(str(inside["timestamp"])).utcoffset() is not None
    assert "trace_id" not in outside and "span_id" not in outside


def test_stdlib_loggers_come_out_in_the_same_shape(capsys) -> None:
    setup_logging("issuance")
    with tracer.start_as_current_span("request") as span:
        logging.getLogger("uvicorn.error").warning("worker %s slow", 3, extra={"attempt": 2})
        get_logger("mimis.issuance").warning("worker 3 slow")

    from_stdlib, from_structlog = lines(capsys.readouterr().out)
    assert from_stdlib["event"] == "worker 3 slow"
    assert from_stdlib["logger"] == "uvicorn.error"
    assert from_stdlib["attempt"] == 2
    assert (from_stdlib["trace_id"], from_stdlib["span_id"]) == span_ids(span)
    assert set(from_stdlib) - {"attempt"} == set(from_structlog)
    assert {k: from_stdlib[k] for k in ("service", "level", "trace_id", "span_id")} == {
        k: from_structlog[k] for k in ("service", "level", "trace_id", "span_id")
    }


def test_uvicorn_default_handlers_are_replaced_by_the_shared_one(capsys) -> None:
    access = logging.getLogger("uvicorn.access")
    access.addHandler(logging.StreamHandler())  # as uvicorn's own log config would
    access.propagate = False
    setup_logging("quality")
    access.info('%s - "%s %s HTTP/%s" %d', "10.0.0.1:5000", "GET", "/reviews", "1.1", 200)

    (line,) = lines(capsys.readouterr().out)
    assert line["event"] == '10.0.0.1:5000 - "GET /reviews HTTP/1.1" 200'
    assert line["service"] == "quality"


def test_exceptions_are_one_json_field_and_levels_filter(capsys) -> None:
    setup_logging("notifications", level="WARNING")
    log = get_logger("mimis.notifications")
    log.info("not shown")
    try:
        raise ValueError("endpoint refused")
    except ValueError:
        log.exception("delivery failed", delivery_id="d-1")

    (line,) = lines(capsys.readouterr().out)
    assert line["level"] == "error"
    assert "ValueError: endpoint refused" in str(line["exception"])


def test_calling_again_replaces_the_handler_instead_of_doubling_lines(capsys) -> None:
    setup_logging("catalog")
    setup_logging("catalog")
    get_logger().info("once")
    assert len(lines(capsys.readouterr().out)) == 1


def test_console_rendering_for_developers(capsys) -> None:
    setup_logging("catalog", json=False)
    with tracer.start_as_current_span("request") as span:
        get_logger("mimis.catalog").info("catalogue searched", hits=3)
    out = capsys.readouterr().out
    assert "catalogue searched" in out and "hits=3" in out
    assert span_ids(span)[0] in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)
