"""``make run``: the whole system on one machine.

Starts the local broker and database (the same :class:`LocalStack` the tests use), creates
the registry's topics, starts every service and the gateway as separate processes, waits
until each answers ``/readyz``, loads the demo data, prints every URL, and on Ctrl-C stops
everything in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.table import Table

from mimis_platform.auth import DevelopmentIssuer, Role
from mimis_platform.contracts import CONTRACTS
from mimis_platform.kafka import ensure_topics
from mimis_platform.localstack import HOST, LocalStack, ServerProcess, StackError, free_port

app = typer.Typer(add_completion=False, help="Run MIMIS locally.")
console = Console(width=max(120, Console().width))  # URLs must stay whole when output is not a terminal

#: (name, module, settings prefix, offset from the base port)
PROCESSES = (
    ("gateway", "gateway", "GATEWAY_", 0),
    ("catalog", "services.catalog", "CATALOG_", 1),
    ("quality", "services.quality", "QUALITY_", 2),
    ("issuance", "services.issuance", "ISSUANCE_", 3),
    ("notifications", "services.notifications", "NOTIFICATIONS_", 4),
)


@dataclass
class ServiceProcess:
    name: str
    url: str
    server: ServerProcess


def _issuer(root: Path) -> DevelopmentIssuer:
    return DevelopmentIssuer.load_or_create(root / "dev-issuer-key.json")


def _service_env(
    stack: LocalStack, prefix: str, port: int, urls: dict[str, str], issuer: DevelopmentIssuer
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(stack.environment(prefix))
    env[f"{prefix}AUTH_JWKS"] = json.dumps(issuer.jwks())
    env[f"{prefix}AUTH_ISSUER"] = issuer.issuer
    env[f"{prefix}HTTP_PORT"] = str(port)
    env[f"{prefix}HTTP_HOST"] = HOST
    env[f"{prefix}ENVIRONMENT"] = "development"
    if prefix == "ISSUANCE_":  # status lists and share links point at the local service
        env["ISSUANCE_PUBLIC_BASE_URL"] = urls["issuance"]
        if "gateway" in urls:  # share links open the gateway's verification page
            env["ISSUANCE_SHARE_PAGE_URL"] = f"{urls['gateway']}/verify?share={{token}}"
        if "notifications" in urls:  # a learner's export asks the local notifications for its part
            env["ISSUANCE_NOTIFICATIONS_URL"] = urls["notifications"]
        env["ISSUANCE_DEV_ISSUER_KEY_PATH"] = str(stack.root / "dev-issuer-key.json")
    if prefix == "NOTIFICATIONS_":  # learner e-mails ask the local issuance, with a development service token
        env["NOTIFICATIONS_ISSUANCE_URL"] = urls["issuance"]
        env["NOTIFICATIONS_DEV_ISSUER_KEY_PATH"] = str(stack.root / "dev-issuer-key.json")
        env["NOTIFICATIONS_MAIL_DROP_DIR"] = str(stack.root / "mail")  # no SMTP server locally: .eml files
    if prefix == "GATEWAY_":
        for name, url in urls.items():
            if name != "gateway":
                env[f"GATEWAY_{name.upper()}_URL"] = url
    # Partner systems call with API keys; the gateway exchanges a key for a token it signs with this
    # key, and every service trusts that issuer beside the development issuer.
    gateway_tokens = DevelopmentIssuer.load_or_create(stack.root / "gateway-token-key.json",
                                                      issuer="https://gateway.mimis.localhost")
    if prefix == "GATEWAY_":
        env["GATEWAY_TOKEN_SIGNING_KEY"] = json.dumps(gateway_tokens.key.as_dict(private=True))
        env["GATEWAY_TOKEN_ISSUER"] = gateway_tokens.issuer
    else:
        env[f"{prefix}AUTH_TRUSTED_ISSUERS"] = json.dumps([{"issuer": gateway_tokens.issuer,
                                                            "jwks": gateway_tokens.jwks()}])
    return env


def start_services(stack: LocalStack, issuer: DevelopmentIssuer, urls: dict[str, str],
                   extra_env: dict[str, str] | None = None) -> list[ServiceProcess]:
    """Start the processes named in ``urls`` (a subset of :data:`PROCESSES`), each on its URL's port
    and logging to the stack's logs folder. ``extra_env`` keys without a prefix get each
    service's prefix (e.g. ``RELAY_IDLE_SECONDS``). Wait for them with :func:`wait_ready`."""
    started: list[ServiceProcess] = []
    for name, module, prefix, _ in PROCESSES:
        if name not in urls:
            continue
        port = int(urls[name].rsplit(":", 1)[1])
        env = _service_env(stack, prefix, port, urls, issuer)
        env.update({f"{prefix}{key}": value for key, value in (extra_env or {}).items()})
        server = ServerProcess(name=f"MIMIS {name}", port=port, argv=[sys.executable, "-m", module],
                               log_path=stack.root / "logs" / f"{name}.log", env=env)
        server.start()
        started.append(ServiceProcess(name, urls[name], server))
    return started


async def wait_ready(services: list[ServiceProcess], timeout: float = 90.0) -> None:
    await asyncio.gather(*(_wait_ready(s, timeout) for s in services))


async def _wait_ready(service: ServiceProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    async with httpx.AsyncClient(timeout=2.0) as http:
        while time.monotonic() < deadline:
            service.server.check_alive()
            try:
                answer = await http.get(f"{service.url}/readyz")
                if answer.status_code == 200:
                    return
                last = answer.text
            except httpx.HTTPError as exc:
                last = repr(exc)
            await asyncio.sleep(0.2)  # poll interval
    raise StackError(
        f"{service.name} did not become ready at {service.url}/readyz: {last}\n"
        f"its log ({service.server.log_path}) ends with:\n{service.server.log_tail()}"
    )


async def _run(root: Path, base_port: int, kafka_port: int, mongo_port: int, stop_after_ready: bool) -> None:
    stack = LocalStack(root=root, kafka_port=kafka_port, mongo_port=mongo_port)
    console.print(f"[bold]MIMIS[/] starting the local stack in {root} ...")
    await stack.start()
    issuer = _issuer(stack.root)
    services: list[ServiceProcess] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await ensure_topics(stack.kafka_bootstrap_servers, CONTRACTS.topics)
        ports = {name: (base_port + offset if base_port else free_port()) for name, _, _, offset in PROCESSES}
        urls = {name: f"http://{HOST}:{port}" for name, port in ports.items()}
        services.extend(start_services(stack, issuer, urls))
        await asyncio.gather(*(_wait_ready(s, 90.0) for s in services))
        await load_demo_data(stack, urls)
        _print_urls(stack, services)
        write_state(stack, urls)
        if not stop_after_ready:
            await stop.wait()
    finally:
        (stack.root / STATE_FILE).unlink(missing_ok=True)
        console.print("[bold]MIMIS[/] stopping ...")
        for service in reversed(services):
            await asyncio.to_thread(service.server.stop, 25.0)
        await stack.stop()
        console.print("[bold]MIMIS[/] stopped.")


#: Where a running `make run` says what it started, for the `mimis` CLI (removed when it stops).
STATE_FILE = "running.json"


def write_state(stack: LocalStack, urls: dict[str, str]) -> None:
    state = {"pid": os.getpid(), "kafka_bootstrap_servers": stack.kafka_bootstrap_servers,
             "mongo_url": stack.mongo_url, "services": urls, "logs": str(stack.root / "logs")}
    (stack.root / STATE_FILE).write_text(json.dumps(state, indent=2))


#: Demo loaders run as their own processes, so this shared package imports no service.
DEMO_LOADERS = ("services.catalog.demo", "services.issuance.demo")


async def load_demo_data(stack: LocalStack, urls: dict[str, str]) -> None:
    for module in DEMO_LOADERS:
        loader = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            "--stack-dir",
            str(stack.root),
            "--kafka",
            stack.kafka_bootstrap_servers,
            *(f"--{name}-url={url}" for name, url in urls.items()),
        )
        if await loader.wait() != 0:
            raise StackError(f"the demo loader {module} failed (exit code {loader.returncode})")


def _print_urls(stack: LocalStack, services: list[ServiceProcess]) -> None:
    table = Table(title="MIMIS is running (Ctrl-C stops everything)")
    table.add_column("what")
    table.add_column("where", overflow="fold")
    for service in services:
        if service.name == "gateway":
            table.add_row("GraphQL (GraphiQL in a browser)", f"{service.url}/graphql")
        else:
            table.add_row(f"{service.name} API (OpenAPI: /docs)", f"{service.url}/docs")
        table.add_row(f"{service.name} readiness", f"{service.url}/readyz")
    table.add_row("Kafka bootstrap", stack.kafka_bootstrap_servers)
    table.add_row("MongoDB", stack.mongo_url)
    table.add_row("logs", str(stack.root / "logs"))
    table.add_row(
        "a bearer token", ".venv/bin/python -m mimis_platform.devstack token demo-anna-hkr --role provider-member"
    )
    console.print(table)
    # One plain line a script can wait for.
    print("MIMIS READY " + " ".join(f"{s.name}={s.url}" for s in services), flush=True)


@app.command()
def run(
    root: Path = typer.Option(Path(".stack"), envvar="MIMIS_STACK_DIR", help="Data and logs folder."),
    base_port: int = typer.Option(
        8100, envvar="MIMIS_BASE_PORT", help="Gateway port; services follow (+1..+4). 0 picks free ports."
    ),
    kafka_port: int = typer.Option(0, envvar="MIMIS_KAFKA_PORT", help="Broker port (0: a free one)."),
    mongo_port: int = typer.Option(0, envvar="MIMIS_MONGO_PORT", help="Database port (0: a free one)."),
    stop_after_ready: bool = typer.Option(False, help="Stop again as soon as everything is ready (a smoke check)."),
) -> None:
    """Start broker, database, every service and the gateway; print the URLs; stop on Ctrl-C."""
    try:
        asyncio.run(_run(root, base_port, kafka_port, mongo_port, stop_after_ready))
    except StackError as exc:
        console.print(f"[red]MIMIS could not start:[/] {exc}")
        raise typer.Exit(1) from exc
    with contextlib.suppress(Exception):
        sys.stdout.flush()


@app.command()
def token(
    subject: str = typer.Argument(help="Who the token is for, e.g. demo-anna-hkr (a demo provider's member)."),
    role: list[Role] = typer.Option([], help="A role; repeat for several."),
    org: list[str] = typer.Option([], help="An organisation the person acts for; repeat for several."),
    root: Path = typer.Option(Path(".stack"), envvar="MIMIS_STACK_DIR"),
) -> None:
    """Print a bearer token from the development issuer that `make run` trusts."""
    print(_issuer(root).token(subject, role, org, lifetime_seconds=8 * 3600))


if __name__ == "__main__":
    app()
