"""Issuance's consumers: the catalogue read model (``catalog.*`` topics, the runtime's consumer)
and providers' assessment events (``provider.assessments``, its own consumer group).

The assessment consumer is the shared :class:`EventConsumer` with one step added before the
handler: the provider's Standard Webhooks signature over the record value, checked against the
secrets of the provider the event names. It needs the raw record, which handlers never see, so
it sits in ``_on_record``; a bad signature is dead-lettered with its reason like any other
event that can never pass.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from mimis_platform.consumer import EventConsumer, Handler, PermanentError, RetryableError
from mimis_platform.envelope import Event, from_kafka
from services.issuance.catalogue import CatalogueReadModel, NotIssuable
from services.issuance.domain.assessment import AssessmentRefused, command_from_assessment, signature_problem
from services.issuance.keystore import ProviderSecrets
from services.issuance.storage import AlreadyIssued, CredentialStore, IndexTaken

ASSESSMENT_RECORDED = "provider.assessment.recorded.v1"


def assessment_routes(store: CredentialStore, catalogue: CatalogueReadModel, lookup_key: bytes,
                      clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> dict[str, Handler]:
    # Provider event ids met again under a new CloudEvents id: the next attempt looks first.
    resent: set[str] = set()

    async def recorded(event: Event, session: AsyncClientSession) -> None:
        try:
            command = command_from_assessment(event.data, lookup_key)
        except AssessmentRefused as exc:
            raise PermanentError(f"refused: {exc}") from None
        if event.data["result"] != "passed":
            return  # acknowledged (the inbox remembers it); nothing to issue
        source = f"{command.provider_id}:{command.source_event_id}"
        if source in resent:
            resent.discard(source)
            if await store.already_issued(command, session):
                return  # the provider sent the same assessment again under another CloudEvents id
        try:
            version = await catalogue.issuable_cached(command.provider_id, command.micro_credential_id,
                                                      command.version)
        except NotIssuable as exc:
            if exc.final:
                raise PermanentError(f"refused: {exc}") from None
            raise RetryableError(str(exc)) from None
        now = clock().replace(microsecond=0)
        try:
            issued = await store.prepare(command, version, now)
        except AssessmentRefused as exc:
            raise PermanentError(f"refused: {exc}") from None
        try:
            await store.save(command, version, issued, now, session)
        except AlreadyIssued:
            # Unique source key: the whole transaction is void; the next attempt finds the credential.
            resent.add(source)
            raise RetryableError("a credential for this provider event id exists; checking") from None
        except IndexTaken:
            await store.refresh_allocator()
            raise RetryableError("status index taken by another replica") from None
        except DuplicateKeyError:
            # Two events of one learner (a new e-mail address) at once: the next attempt finds the record.
            raise RetryableError("the learner was recorded concurrently") from None

    return {ASSESSMENT_RECORDED: recorded}


class AssessmentConsumer(EventConsumer):
    """The shared consumer plus the provider signature check (see the module's doc)."""

    def __init__(self, *, provider_secrets: ProviderSecrets, **options: Any) -> None:
        super().__init__(**options)
        self.provider_secrets = provider_secrets

    async def _on_record(self, record: ConsumerRecord[Any, Any]) -> None:
        try:
            event = from_kafka(record.key, record.value, record.headers)
        except Exception:
            await super()._on_record(record)  # dead-letters it as undecodable
            return
        handler = self.routes.get(event.type)
        if handler is None:
            await super()._on_record(record)
            return
        try:
            self.contracts.validate(event.type, event.data)
        except Exception as exc:
            await self._dead_letter(record, f"contract violation: {type(exc).__name__}: {exc}")
            return
        problem = await self._signature_problem(record, event)
        if problem is not None:
            await self._dead_letter(record, f"bad signature: {problem}")
            return
        await self._handle(record, event, handler)

    async def _signature_problem(self, record: ConsumerRecord[Any, Any], event: Event) -> str | None:
        headers = {name.lower(): (raw or b"").decode("latin-1") for name, raw in record.headers}
        provider_id = str(event.data["provider_id"])
        body = record.value or b""
        problem = signature_problem(body, headers, event.id, await self.provider_secrets.current(provider_id))
        if problem is not None:  # a secret made on another replica moments ago is not cached yet
            problem = signature_problem(body, headers, event.id,
                                        await self.provider_secrets.current(provider_id, fresh=True))
        return problem
