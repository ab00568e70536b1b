"""Composition root of the quality service: settings -> runtime -> store -> handlers -> app."""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pymongo.asynchronous.client_session import AsyncClientSession
from starlette.exceptions import HTTPException

from mimis_platform.api_errors import ErrorBody
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


def _http_errors_in_the_shared_shape(app: FastAPI) -> None:
    # Routing answers (404 for an unknown path, 405 for a method a path does not allow, such as
    # any write to the audit trail) would otherwise come as {"detail": ...}; clients expect the
    # one error shape of every MIMIS API.
    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        phrase = HTTPStatus(exc.status_code).phrase
        message = exc.detail if isinstance(exc.detail, str) else phrase
        if exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            message = (
                "the audit trail is append-only: it can only be read"
                if request.url.path.endswith("/audit")
                else f"{request.method} is not allowed here; this path allows {allowed}"
            )
        body = ErrorBody(error=phrase.lower().replace(" ", "_"), message=message)
        return JSONResponse(status_code=exc.status_code, content=body.model_dump(), headers=exc.headers)


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
    )
    _http_errors_in_the_shared_shape(app)
    app.state.quality_store = store
    return app
