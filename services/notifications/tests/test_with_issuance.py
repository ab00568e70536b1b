"""Against the real issuance service: a credential issued through issuance's API reaches the
notifications consumer as issuance's own event (outbox, broker), and the learner's e-mail is
sent with the contact details issuance's real recipient endpoint gives at send time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import uvicorn

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.localstack import LocalStack, free_port
from services.issuance.tests.conftest import running_issuance
from services.notifications.tests.conftest import Factory
from services.notifications.tests.factories import uid


async def test_a_credential_issued_by_issuance_is_mailed_to_its_learner(
        stack: LocalStack, mongo_client: Any, unique_name: str, dev_issuer: DevelopmentIssuer,
        notifications_factory: Factory) -> None:
    async with running_issuance(stack, mongo_client, f"{unique_name}i", dev_issuer) as issuance:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(issuance.app, host="127.0.0.1", port=port, lifespan="off",
                                               log_level="warning"))
        server.capture_signals = _no_signals  # type: ignore[method-assign]  # the test runner keeps Ctrl-C
        serving = asyncio.create_task(server.serve())
        try:
            while not server.started:
                if serving.done():
                    serving.result()
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.05)  # uvicorn binding its port
            async with notifications_factory(issuance_url=f"http://127.0.0.1:{port}") as n:
                await issuance.publish()
                address = f"{uid('lena')}@example.se"
                credential = await issuance.issue(email=address)
                credential_id = credential.get("id") or credential.get("credential_id")
                assert credential_id, credential

                async def queued() -> dict[str, Any] | None:
                    found: dict[str, Any] | None = await n.store.deliveries.find_one(
                        {"kind": "learner-credential", "params.credential_id": credential_id})
                    return found

                delivery = await n.wait_for(queued, "the learner e-mail of the issued credential")
                assert await n.drain() >= 1
                [mail] = n.smtp.to(address)
                assert mail["Subject"].startswith("Ditt nya mikromeritbevis")
                assert "Hej Lena Larsson" in mail.get_content()
                assert f"{issuance.settings.public_base_url}/verify?share=" in mail.get_content()
                state = await n.store.delivery(delivery["_id"])
                assert state is not None and state["status"] == "delivered"
                assert address not in str(state) and address not in str(delivery)
        finally:
            server.should_exit = True
            await serving


@contextlib.contextmanager
def _no_signals() -> Iterator[None]:
    yield
