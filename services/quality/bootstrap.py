"""Composition root of the quality service: settings -> runtime -> store -> handlers -> app."""

from __future__ import annotations

from fastapi import FastAPI, Request
from pymongo.asynchronous.client_session import AsyncClientSession

from mimis_platform.service import ServiceRuntime, create_service_app
from services.quality import events
from services.quality.api import ROUTERS
from services.quality.documents import now_as_stored
from services.quality.domain import review as rv
from services.quality.settings import QualitySettings
from services.quality.storage import QualityStore


def submission_handler(store: QualityStore, policy: rv.ReviewPolicy) -> events.SubmissionHandler:
    async def on_submitted(submission: rv.Submission, event_id: str, session: AsyncClientSession) -> None:
        await store.open_review(submission, policy, now=now_as_stored(), cause=f"event {event_id}",
                                session=session)

    return on_submitted


def _audit_trail_is_read_only(request: Request) -> str | None:
    return "the audit trail is append-only: it can only be read" if request.url.path.endswith("/audit") else None


def bootstrap(settings: QualitySettings | None = None) -> FastAPI:
    settings = settings or QualitySettings()
    runtime = ServiceRuntime(settings=settings, publishes=True)
    assert runtime.outbox is not None
    store = QualityStore(runtime.client, runtime.db, runtime.outbox)
    runtime.bind_routes(events.routes(on_submitted=submission_handler(store, settings.review_policy())))
    runtime.on_startup = [lambda _: store.ensure_indexes()]
    app = create_service_app(
        runtime,
        ROUTERS,
        title="MIMIS quality",
        description="The quality board's workplace: published criteria, reviews of submitted micro-credentials "
        "(assignment, checklists, verdicts, decisions), the audit trail, public review summaries and statistics.",
        method_not_allowed=_audit_trail_is_read_only,
    )
    app.state.quality_store = store
    return app
