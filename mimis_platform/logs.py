"""Structured logs: one JSON object per line on stdout, the same shape for structlog and for
stdlib loggers (uvicorn, aiokafka, pymongo), each carrying the active span's trace and span ids so
a log line leads to its trace.

Run uvicorn with ``log_config=None``: its default config gives its loggers their own handlers and
stops them propagating, which would bypass the shape set here.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from opentelemetry import trace
from structlog.typing import EventDict, Processor, WrappedLogger

from mimis_platform.redaction import redact_log_event

#: Loggers that libraries set up with handlers of their own; they are sent to the root handler.
_LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "fastapi")
# Libraries whose DEBUG lines print whole database commands and replies, i.e. the documents, with
# learners' names in them (which redaction cannot recognise by shape): never below INFO, whatever
# LOG_LEVEL says.
_DOCUMENT_LOGGERS = ("pymongo.command",)


def setup_logging(service_name: str, level: str = "INFO", json: bool = True) -> None:
    """Route structlog and stdlib logging through the same processors to stdout.

    Safe to call again (tests, a CLI changing the level): it replaces only the handler it
    installed before and leaves other handlers (such as pytest's capture) alone.
    """
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _ServiceName(service_name),
        add_trace_context,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.UnicodeDecoder(),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Caching would pin loggers to the first configuration and make a later call a no-op for
        # them; the saving (one bind per call on a module-level proxy) is small next to I/O.
        cache_logger_on_first_use=False,
    )

    # Redaction last before rendering, after tracebacks became text: no personal data in any line.
    renderer: list[Processor] = (
        [structlog.processors.format_exc_info, redact_log_event, structlog.processors.JSONRenderer()]
        if json
        else [structlog.processors.format_exc_info, redact_log_event,
              structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())]
    )
    handler = _StdoutHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            # Stdlib records get the same fields; ExtraAdder keeps their ``extra=`` values.
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), _drop_formatted_message],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
        )
    )

    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StdoutHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _LIBRARY_LOGGERS:
        library_logger = logging.getLogger(name)
        library_logger.handlers.clear()
        library_logger.propagate = True
    for name in _DOCUMENT_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """A structlog logger backed by the stdlib logger ``name`` (so levels set per name apply)."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


def add_trace_context(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Add the current OpenTelemetry span's ids in the hex form trace backends search by."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict.setdefault("trace_id", trace.format_trace_id(span_context.trace_id))
        event_dict.setdefault("span_id", trace.format_span_id(span_context.span_id))
    return event_dict


def _drop_formatted_message(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    # logging.Formatter leaves the rendered text on the record as ``message``; ExtraAdder takes
    # it for an extra field, and it would only repeat ``event``. (logging refuses an extra named
    # "message", so no caller's field is lost.)
    event_dict.pop("message", None)
    return event_dict


class _ServiceName:
    def __init__(self, service_name: str) -> None:
        self.service_name = service_name

    def __call__(self, _logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", self.service_name)
        return event_dict


class _StdoutHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stdout`` is at the time of the record, so redirection after set-up
    (pytest's capture, a CLI swapping streams) is honoured instead of writing to a stale stream."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass  # logging.StreamHandler assigns the stream in __init__ and setStream; always stdout
