"""The local stack starts, answers on the wire, reports clear errors and stops cleanly."""

from __future__ import annotations

import socket

import pytest

from mimis_platform.localstack import HOST, LocalStack, StackError, ensure_port_free, tansu_binary


async def test_stack_answers_kafka_and_mongodb(stack: LocalStack, mongo_client) -> None:
    assert (await mongo_client.admin.command("ping"))["ok"] == 1
    await stack.wait_broker_ready()
    assert stack.broker.running() and stack.database.running()


def test_taken_port_is_reported_clearly() -> None:
    with socket.socket() as holder:
        holder.bind((HOST, 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(StackError, match=rf"port {port} .* already in use"):
            ensure_port_free(port, "the broker")


async def test_start_fails_clearly_when_a_port_is_taken(tmp_path) -> None:
    with socket.socket() as holder:
        holder.bind((HOST, 0))
        holder.listen()
        local = LocalStack(root=tmp_path, kafka_port=holder.getsockname()[1])
        with pytest.raises(StackError, match=r"Kafka broker .* already in use"):
            await local.start()
        # nothing half-started is left behind
        assert not local.broker.running() and not local.database.running()


def test_missing_broker_binary_is_reported(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MIMIS_TANSU_BIN", str(tmp_path / "no-such-tansu"))
    with pytest.raises(StackError, match="binary is missing"):
        tansu_binary()


async def test_a_second_stack_starts_and_stops_cleanly(tmp_path) -> None:
    local = LocalStack(root=tmp_path)
    await local.start()
    pids = [local.broker.process.pid, local.database.process.pid]  # type: ignore[union-attr]
    await local.stop()
    assert not local.broker.running() and not local.database.running()
    for pid in pids:  # the processes are gone, not orphaned
        with pytest.raises(ProcessLookupError):
            import os
            os.kill(pid, 0)
