"""Errors clients can act on: a stopped or silent service gives a partial answer with a coded error
on its fields (not a 500), and a fault of the gateway's own is masked in production."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import strawberry
from pymongo import AsyncMongoClient

from gateway.app import bootstrap as gateway_app
from gateway.limits import extensions
from gateway.schema import GatewaySchema
from gateway.settings import GatewaySettings
from gateway.tests.region import Region, gateway_key, gateway_settings, gql_execute, served, service_settings
from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.localstack import LocalStack, free_port
from mimis_platform.mongo import Document
from services.quality.bootstrap import bootstrap as quality_app

ENTRY_WITH_SUMMARY = """query($id: ID!) { microCredential(id: $id) { id title { sv }
    reviewSummary { reviewedVersions { outcome } } } }"""


async def test_a_stopped_service_gives_a_partial_answer(
        region: Region, stack: LocalStack, dev_issuer: DevelopmentIssuer, mongo_client: AsyncMongoClient[Document],
        unique_name: str) -> None:
    key = gateway_key()
    _, quality_settings = service_settings(stack, unique_name, dev_issuer, key)
    try:
        async with served(quality_app(quality_settings)) as quality_url:
            settings = gateway_settings(stack, unique_name, dev_issuer, key, region.catalog_url, quality_url)
            async with served(gateway_app(settings)) as gateway_url:
                data, errors = await gql_execute(gateway_url, "{ reviewCriteria { version } }")
                assert errors == [] and data is not None and data["reviewCriteria"]["version"]
                stopped_quality = quality_url
        # The quality service is stopped now; a new gateway process still points at it.
        settings = gateway_settings(stack, unique_name, dev_issuer, key, region.catalog_url, stopped_quality)
        async with served(gateway_app(settings)) as gateway_url:
            data, errors = await gql_execute(gateway_url, ENTRY_WITH_SUMMARY, {"id": region.published[0]})
    finally:
        await mongo_client.drop_database(quality_settings.mongo_database)
        await mongo_client.drop_database(f"gateway_{unique_name}")
    assert data is not None
    assert data["microCredential"]["title"]["sv"].startswith("Mikromerit")  # the catalog still answers
    assert data["microCredential"]["reviewSummary"] is None
    assert [(e["path"], e["extensions"]) for e in errors] == [
        (["microCredential", "reviewSummary"], {"code": "SERVICE_UNAVAILABLE", "service": "quality"})]


@asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and never answers (a hung service)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    port = free_port()
    server = await asyncio.start_server(hold, "127.0.0.1", port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_service_that_does_not_answer_in_time_is_unavailable(
        region: Region, stack: LocalStack, dev_issuer: DevelopmentIssuer, mongo_client: AsyncMongoClient[Document],
        unique_name: str) -> None:
    async with silent_server() as hung:
        settings = gateway_settings(stack, unique_name, dev_issuer, gateway_key(), region.catalog_url, hung,
                                    service_timeout_seconds=0.5)
        try:
            async with served(gateway_app(settings)) as gateway_url:
                data, errors = await gql_execute(gateway_url, ENTRY_WITH_SUMMARY, {"id": region.published[1]})
        finally:
            await mongo_client.drop_database(f"gateway_{unique_name}")
    assert data is not None and data["microCredential"]["id"] == region.published[1]
    assert data["microCredential"]["reviewSummary"] is None
    assert errors[0]["extensions"] == {"code": "SERVICE_UNAVAILABLE", "service": "quality"}
    assert "did not answer in time" in errors[0]["message"]


@strawberry.type
class _Faulty:
    @strawberry.field
    def broken(self) -> str | None:
        raise RuntimeError("connection string mongodb://admin:hunter2@db/ leaked")

    @strawberry.field
    def fine(self) -> str:
        return "yes"


def _execute(environment: str) -> dict[str, object]:
    settings = GatewaySettings.model_construct(**{**GatewaySettings().model_dump(), "environment": environment})
    schema = GatewaySchema(query=_Faulty, extensions=extensions(settings))
    result = schema.execute_sync("{ broken fine }")
    assert result.errors is not None
    return {"data": result.data, "error": result.errors[0].formatted}


def test_a_fault_is_masked_in_production() -> None:
    answer = _execute("production")
    assert answer["data"] == {"broken": None, "fine": "yes"}
    assert answer["error"] == {"message": "Internal server error.", "locations": [{"line": 1, "column": 3}],
                               "path": ["broken"], "extensions": {"code": "INTERNAL_SERVER_ERROR"}}


def test_a_fault_keeps_its_message_in_development_with_the_same_code() -> None:
    answer = _execute("development")
    error = answer["error"]
    assert isinstance(error, dict)
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "leaked" in error["message"]
