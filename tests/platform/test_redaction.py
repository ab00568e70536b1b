"""No personal data in log lines or exported spans, whatever a developer passes to them."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mimis_platform.logs import get_logger, setup_logging
from mimis_platform.redaction import REDACTED, REDACTED_EMAIL, REDACTED_PIN, redact, redact_text

EMAIL = "Anna.Svensson@example.se"
PIN = "19811218-9876"  # valid check digit
NOT_A_PIN = "19811218-9875"  # same shape, wrong check digit: an order number, say
COORDINATION = "701063-2391"  # day + 60


pytestmark = pytest.mark.usefixtures("restore_logging")


def test_text_loses_addresses_and_identity_numbers_but_keeps_other_numbers() -> None:
    text = f"mail {EMAIL} about {PIN} / {COORDINATION}, order {NOT_A_PIN}"
    assert redact_text(text) == (
        f"mail {REDACTED_EMAIL} about {REDACTED_PIN} / {REDACTED_PIN}, order {NOT_A_PIN}"
    )


def test_fields_are_redacted_by_name_at_any_depth() -> None:
    value = {
        "learner": {"name": "Anna Svensson", "email": "x", "date_of_birth": "1981-12-18"},
        "provider": {"name": "Malmö Yrkeshögskola"},  # an organisation's name is not personal
        "rows": [{"Personal-Identity-Number": "whatever", "grade": "VG", "evidence_url": "https://e/1"}],
        "micro_credential_id": "mc-1",
    }
    assert redact(value) == {
        "learner": {"name": REDACTED, "email": REDACTED, "date_of_birth": REDACTED},
        "provider": {"name": "Malmö Yrkeshögskola"},
        "rows": [{"Personal-Identity-Number": REDACTED, "grade": REDACTED, "evidence_url": REDACTED}],
        "micro_credential_id": "mc-1",
    }


def test_log_lines_carry_no_personal_data_even_in_tracebacks(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("issuance")
    log = get_logger("mimis.issuance")
    log.info("issuing", learner={"name": "Anna Svensson", "email": EMAIL}, note=f"pin {PIN}")
    try:
        raise ValueError(f"no learner with address {EMAIL}")
    except ValueError:
        log.exception("lookup failed")
    logging.getLogger("aiokafka").warning("stdlib logger mentions %s", EMAIL)

    out = capsys.readouterr().out
    assert EMAIL not in out and "Anna Svensson" not in out and PIN not in out
    first, failed, stdlib = (json.loads(line) for line in out.splitlines() if line.strip())
    assert first["learner"] == {"name": REDACTED, "email": REDACTED} and first["note"] == f"pin {REDACTED_PIN}"
    assert "ValueError: no learner with address [redacted e-mail]" in failed["exception"]
    assert stdlib["event"] == f"stdlib logger mentions {REDACTED_EMAIL}"


def test_exported_spans_carry_no_personal_data(span_exporter: InMemorySpanExporter) -> None:
    tracer = trace.get_tracer("test_redaction")  # the process's provider, set up as a service's is
    with tracer.start_as_current_span(f"send to {EMAIL}") as span:
        span.set_attribute("learner.email", EMAIL)
        span.set_attribute("db.statement", f'find {{"email": "{EMAIL}", "pin": "{PIN}"}}')
        span.set_attribute("micro_credential.id", "mc-1")
        span.record_exception(ValueError(f"refused {PIN}"))

    [finished] = span_exporter.get_finished_spans()
    exported: dict[str, Any] = json.loads(finished.to_json())
    text = json.dumps(exported)
    assert EMAIL not in text and PIN not in text
    assert exported["name"] == f"send to {REDACTED_EMAIL}"
    assert exported["attributes"]["learner.email"] == REDACTED
    assert exported["attributes"]["micro_credential.id"] == "mc-1"
    assert REDACTED_PIN in exported["events"][0]["attributes"]["exception.message"]


async def test_debug_logging_never_prints_database_documents(capsys: pytest.CaptureFixture[str],
                                                             mongo_client: Any, unique_name: str) -> None:
    """PyMongo's DEBUG command log prints whole documents (a learner's name, which no pattern
    recognises); it stays off even when a developer sets LOG_LEVEL=DEBUG."""
    setup_logging("issuance", "DEBUG")
    db = mongo_client[f"redaction_{unique_name}"]
    try:
        await db["learners"].insert_one({"name": "Ingrid Loggfri", "language": "sv"})
        assert await db["learners"].find_one({"name": "Ingrid Loggfri"}) is not None
        get_logger("mimis.issuance").debug("debug lines still appear")
    finally:
        await mongo_client.drop_database(f"redaction_{unique_name}")
    out = capsys.readouterr().out
    assert "debug lines still appear" in out
    assert "Ingrid Loggfri" not in out
