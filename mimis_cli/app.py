"""mimis: look at a running MIMIS and act on it from a terminal.

    mimis status                      what `make run` started, and whether each part answers
    mimis lag                         consumer lag per group, topic and partition
    mimis dlq list catalog.micro-credentials.dlq
    mimis dlq replay catalog.micro-credentials.dlq --group quality --dry-run
    mimis verify credential.jwt       every check of a credential, by the issuance service
    mimis provider sample-event --provider-id ... --micro-credential ... --secret whsec_...
                                      registers sample learners, then sends signed v2 events

Where things are: ``--kafka`` / ``--issuance-url`` when given, else what a running ``make run``
wrote to ``<stack dir>/running.json``, else the local defaults. On a cluster, the ops user's
credentials come from ``MIMIS_OPS_KAFKA_SASL_USERNAME``, ``MIMIS_OPS_KAFKA_SASL_PASSWORD`` and
``MIMIS_OPS_KAFKA_SSL_CAFILE`` (the runbook's replay Job has them). ``provider sample-event``
registers its learners with a provider-member token: ``--token`` (``MIMIS_PROVIDER_TOKEN``), else
one signed with ``make run``'s development issuer key (``<stack dir>/dev-issuer-key.json``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from mimis_platform.auth import DevelopmentIssuer, Role
from mimis_platform.contracts import CONTRACTS
from mimis_platform.dead_letters import end_offsets, read_letters, replay
from mimis_platform.devstack import STATE_FILE
from mimis_platform.envelope import Event, to_kafka
from mimis_platform.kafka import KafkaConnection

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.split("\n\n")[0])
dlq_app = typer.Typer(no_args_is_help=True, help="Dead-letter topics: what is in them, and replaying it.")
provider_app = typer.Typer(no_args_is_help=True, help="For provider integrators.")
app.add_typer(dlq_app, name="dlq")
app.add_typer(provider_app, name="provider")
console = Console()
errors = Console(stderr=True)

StackDir = typer.Option(Path(".stack"), "--stack-dir", envvar="MIMIS_STACK_DIR", help="`make run`'s folder.")
JsonOption = typer.Option(False, "--json", help="JSON on stdout instead of a table (for scripts).")
KafkaOption = typer.Option(None, "--kafka", envvar="MIMIS_KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers.")
DEV_ISSUER_KEY = "dev-issuer-key.json"  # `make run`'s development token issuer, in the stack folder
ASSESSMENT_V2 = "provider.assessment.recorded.v2"


def _state(stack_dir: Path) -> dict[str, Any]:
    path = stack_dir / STATE_FILE
    if not path.exists():
        return {}
    state: dict[str, Any] = json.loads(path.read_text())
    return state


def _kafka(kafka: str | None, stack_dir: Path) -> KafkaConnection:
    bootstrap = kafka or _state(stack_dir).get("kafka_bootstrap_servers") or "127.0.0.1:9092"
    return KafkaConnection.for_operator(bootstrap, os.environ)


def _fail(message: str) -> typer.Exit:
    errors.print(f"[red]error:[/] {message}")
    return typer.Exit(1)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=errors, transient=True)


# -- status ---------------------------------------------------------------------------------------


@app.command()
def status(stack_dir: Path = StackDir) -> None:
    """What `make run` started and whether each part answers (broker, database, every service's /readyz)."""
    state = _state(stack_dir)
    if not state:
        raise _fail(f"nothing running: no {stack_dir / STATE_FILE} (start it with `make run`)")
    table = Table(title=f"MIMIS in {stack_dir} (pid {state.get('pid')})")
    for column in ("part", "where", "state", "detail"):
        table.add_column(column, overflow="fold")
    ready = True
    with httpx.Client(timeout=5.0) as http:
        for name, url in state.get("services", {}).items():
            try:
                answer = http.get(f"{url}/readyz")
                body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
                ok = answer.status_code == 200
                detail = ", ".join(f"{k}: {v.get('status', v) if isinstance(v, dict) else v}"
                                   for k, v in (body.get("checks") or {}).items())
            except httpx.HTTPError as exc:
                ok, detail = False, f"no answer ({type(exc).__name__})"
            ready &= ok
            table.add_row(name, url, "[green]ready[/]" if ok else "[red]not ready[/]", detail)
    table.add_row("Kafka", state.get("kafka_bootstrap_servers", "?"), "", "")
    table.add_row("MongoDB", state.get("mongo_url", "?"), "", "")
    table.add_row("logs", state.get("logs", "?"), "", "")
    console.print(table)
    if not ready:
        raise typer.Exit(1)


# -- lag ------------------------------------------------------------------------------------------


async def _lag(kafka: KafkaConnection, groups: list[str],
               topics_of: dict[str, list[str]]) -> list[tuple[str, str, int, int | None, int]]:
    rows: list[tuple[str, str, int, int | None, int]] = []
    for group in groups:
        topics = topics_of.get(group) or [t.name for t in CONTRACTS.topics
                                          if any(t.group_of(c) == group for c in t.consumers)]
        # Joins no group (nothing is subscribed) and commits nothing: it only asks for offsets.
        consumer = AIOKafkaConsumer(**kafka.client_options(), group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, p) for topic in topics
                          for p in sorted(consumer.partitions_for_topic(topic) or ())]
            if not partitions:
                continue
            ends = await end_offsets(consumer, partitions)
            for tp in partitions:
                committed = await consumer.committed(tp)
                rows.append((group, tp.topic, tp.partition, committed, ends[tp]))
        finally:
            await consumer.stop()
    return rows


@app.command()
def lag(group: list[str] = typer.Option([], help="A consumer group (default: every service that consumes)."),
        topic: list[str] = typer.Option([], help="Topics to look at (default: those the registry gives the group)."),
        as_json: bool = JsonOption, kafka: str | None = KafkaOption, stack_dir: Path = StackDir) -> None:
    """Consumer lag per group, topic and partition: records not yet handled."""
    groups = group or sorted({t.group_of(c) for t in CONTRACTS.topics for c in t.consumers})
    rows = asyncio.run(_lag(_kafka(kafka, stack_dir), groups, {g: list(topic) for g in groups}))
    if as_json:
        print(json.dumps([{"group": g, "topic": t, "partition": p, "committed": c, "end": e, "lag": e - (c or 0)}
                          for g, t, p, c, e in rows]))
        return
    table = Table(title="consumer lag")
    for column in ("group", "topic", "partition", "committed", "end", "lag"):
        table.add_column(column, justify="right" if column in ("partition", "committed", "end", "lag") else "left")
    for g, name, partition, committed, end in rows:
        behind = end - (committed or 0)
        table.add_row(g, name, str(partition), "-" if committed is None else str(committed), str(end),
                      f"[yellow]{behind}[/]" if behind else "0")
    console.print(table)
    console.print(f"total lag: {sum(end - (committed or 0) for *_, committed, end in rows)}")


# -- dead letters ---------------------------------------------------------------------------------


@dlq_app.command("list")
def dlq_list(topic: str = typer.Argument(help="The dead-letter topic, e.g. catalog.micro-credentials.dlq."),
             limit: int = typer.Option(50, min=1, help="At most this many letters."),
             as_json: bool = JsonOption, kafka: str | None = KafkaOption, stack_dir: Path = StackDir) -> None:
    """The letters in a dead-letter topic: which group gave up on which event, and why."""
    if not topic.endswith(".dlq"):
        raise _fail(f"{topic} is not a dead-letter topic (they end in .dlq)")
    with _progress() as progress:
        task = progress.add_task(f"reading {topic}", total=None)
        try:
            letters, total = asyncio.run(read_letters(
                _kafka(kafka, stack_dir), topic, limit,
                progress=lambda done, of: progress.update(task, completed=done, total=of)))
        except LookupError as exc:
            raise _fail(str(exc)) from exc
    if as_json:
        print(json.dumps({"topic": topic, "total": total, "letters": [dataclasses.asdict(x) for x in letters]}))
        return
    table = Table(title=f"{topic}: {total} letter(s)" + (f", first {len(letters)}" if total > len(letters) else ""))
    for column in ("at", "group", "event", "from", "failed at", "reason"):
        table.add_column(column, overflow="fold")
    for x in letters:
        table.add_row(f"{x.partition}:{x.offset}", x.group or "?", f"{x.event_type or '?'} {x.event_id or ''}",
                      f"{x.original_topic}@{x.original_position}", x.failed_at or "", x.reason)
    console.print(table)


def _offset(text: str) -> tuple[int, int]:
    partition, sep, offset = text.partition(":")
    if not sep or not partition.isdigit() or not offset.isdigit():
        raise typer.BadParameter(f"{text!r} is not PARTITION:OFFSET, e.g. 0:120")
    return int(partition), int(offset)


@dlq_app.command("replay")
def dlq_replay(
    topic: str = typer.Argument(help="The dead-letter topic."),
    group: str | None = typer.Option(None, help="Only letters this consumer group dead-lettered."),
    reason_contains: str | None = typer.Option(None, help="Only letters whose reason contains this text."),
    start: list[str] = typer.Option([], "--from", help="PARTITION:OFFSET to start at (repeatable)."),
    dry_run: bool = typer.Option(False, help="List what would be replayed, send nothing."),
    kafka: str | None = KafkaOption, stack_dir: Path = StackDir,
) -> None:
    """Copy letters back to the topic they came from (consumers are idempotent: only the group
    that failed runs them again)."""
    starts = dict(_offset(s) for s in start)
    connection = _kafka(kafka, stack_dir)
    with _progress() as progress:
        task = progress.add_task(f"{'checking' if dry_run else 'replaying'} {topic}", total=None)
        outcome = asyncio.run(replay(topic, connection.client_options(), group=group, reason_contains=reason_contains,
                                     start=starts, dry_run=dry_run, out=sys.stdout,
                                     progress=lambda n: progress.advance(task, n)))
    resume = " ".join(f"--from {p}:{o}" for p, o in sorted(outcome.next_offsets.items()))
    console.print(f"{'would replay' if dry_run else 'replayed'} {outcome.replayed}, skipped {outcome.skipped}; "
                  f"next run: {resume}")


# -- credentials ------------------------------------------------------------------------------------


@app.command()
def verify(
    file: Path = typer.Argument(help="A credential: a compact JWS (.jwt) or JSON with a Data Integrity proof.",
                                exists=True, dir_okay=False, readable=True),
    issuance_url: str | None = typer.Option(None, envvar="MIMIS_ISSUANCE_URL", help="The issuance service."),
    stack_dir: Path = StackDir,
) -> None:
    """Every check of a credential (signature, issuer key, validity, revocation, catalogue version)."""
    url = issuance_url or _state(stack_dir).get("services", {}).get("issuance") or "http://127.0.0.1:8103"
    text = file.read_text().strip()
    credential: Any = text
    if text.startswith("{"):
        try:
            credential = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _fail(f"{file} is not JSON: {exc}") from exc
    try:
        answer = httpx.post(f"{url}/v1/verify", json={"credential": credential}, timeout=30)
    except httpx.HTTPError as exc:
        raise _fail(f"the issuance service at {url} did not answer ({type(exc).__name__})") from exc
    if answer.status_code != 200:
        raise _fail(f"{answer.status_code}: {answer.text}")
    result = answer.json()
    table = Table(title=f"{file.name}: {'[green]valid[/]' if result['verified'] else '[red]invalid[/]'}")
    for column in ("check", "", "detail"):
        table.add_column(column, overflow="fold")
    for check in result["checks"]:
        table.add_row(check["check"], "[green]ok[/]" if check["ok"] else "[red]failed[/]", check["reason"])
    console.print(table)
    if not result["verified"]:
        raise typer.Exit(2)


REGISTRATION_BATCH = 1000  # POST /v1/providers/{id}/learners takes 1 to 1,000 learners a call


def _provider_token(token: str | None, provider_id: str, stack_dir: Path) -> str:
    """The bearer token that registers learners: ``--token``, else one from the development
    issuer that `make run` trusts (its key in the stack folder)."""
    if token:
        return token.removeprefix("Bearer ").strip()
    key = stack_dir / DEV_ISSUER_KEY
    if not key.exists():
        raise _fail(f"registering the sample learners needs a provider-member token: give --token (or "
                    f"MIMIS_PROVIDER_TOKEN), or run `make run` so that {key} exists")
    issuer = DevelopmentIssuer.load_or_create(key)
    return issuer.token(f"mimis-cli-{provider_id}", [Role.PROVIDER_MEMBER], [provider_id], lifetime_seconds=3600)


def _register_learners(url: str, token: str, provider_id: str, learners: list[dict[str, Any]],
                       progress: Progress) -> list[str]:
    """Each learner's learner_ref from issuance (``POST /v1/providers/{id}/learners``), in order."""
    refs: list[str] = []
    task = progress.add_task(f"registering learners at {url}", total=len(learners))
    with httpx.Client(base_url=url, timeout=120, headers={"authorization": f"Bearer {token}"}) as http:
        for start in range(0, len(learners), REGISTRATION_BATCH):
            chunk = learners[start:start + REGISTRATION_BATCH]
            try:
                answer = http.post(f"/v1/providers/{provider_id}/learners", json={"learners": chunk})
            except httpx.HTTPError as exc:
                raise _fail(f"the issuance service at {url} did not answer ({type(exc).__name__})") from exc
            if answer.status_code != 200:
                raise _fail(f"registering the sample learners: {answer.status_code}: {answer.text}")
            refs.extend(str(row["learner_ref"]) for row in answer.json()["learners"])
            progress.advance(task, len(chunk))
    return refs


@provider_app.command("sample-event")
def sample_event(
    provider_id: str = typer.Option(..., help="Your provider id in the catalogue."),
    micro_credential: str = typer.Option(..., help="The micro-credential id."),
    version: int = typer.Option(1, min=1, help="Its published version."),
    secret: str = typer.Option(..., envvar="MIMIS_PROVIDER_EVENT_SECRET",
                               help="Your event-signing secret (whsec_...): POST /v1/providers/{id}/event-secrets."),
    count: int = typer.Option(1, min=1, max=100_000, help="How many events (one new learner each)."),
    email_domain: str = typer.Option("example.org", help="Sample learners get addresses at this domain."),
    issuance_url: str | None = typer.Option(None, envvar="MIMIS_ISSUANCE_URL",
                                            help="The issuance service the learners are registered with."),
    token: str | None = typer.Option(None, envvar="MIMIS_PROVIDER_TOKEN",
                                     help="A provider-member bearer token with the provider in its org claim "
                                          "(default: one from `make run`'s development issuer)."),
    kafka: str | None = KafkaOption, stack_dir: Path = StackDir,
) -> None:
    """Register sample learners over HTTPS (POST /v1/providers/{id}/learners, for their learner_ref),
    then publish one provider.assessment.recorded.v2 event for each, signed as the contract says;
    prints each event id so you can find the credential it becomes."""
    # The contract's own signing (Standard Webhooks), as an integrator's code does it in any language.
    from services.issuance.domain.assessment import sign_record

    topic = CONTRACTS.topics.topic_for(ASSESSMENT_V2).name
    connection = _kafka(kafka, stack_dir)
    url = (issuance_url or _state(stack_dir).get("services", {}).get("issuance") or "http://127.0.0.1:8103").rstrip("/")
    bearer = _provider_token(token, provider_id, stack_dir)
    learners = [{"name": f"Sample Learner {n + 1}", "email": f"sample-{uuid.uuid4().hex[:10]}@{email_domain}",
                 "language": "sv"} for n in range(count)]
    with _progress() as progress:
        refs = _register_learners(url, bearer, provider_id, learners, progress)

    async def publish() -> list[str]:
        producer = AIOKafkaProducer(**connection.client_options(), acks="all", enable_idempotence=False)
        await producer.start()
        ids: list[str] = []
        try:
            with _progress() as progress:
                task = progress.add_task(f"publishing to {topic}", total=count)
                for learner_ref in refs:
                    event_id = f"sample-{uuid.uuid4()}"
                    data: dict[str, Any] = {
                        "provider_event_id": event_id, "provider_id": provider_id,
                        "micro_credential_id": micro_credential, "version": version,
                        "learner_ref": learner_ref, "result": "passed", "assessed_on": date.today().isoformat(),
                    }
                    CONTRACTS.validate(ASSESSMENT_V2, data)
                    event = Event(type=ASSESSMENT_V2, source=f"/providers/{provider_id}/cli",
                                  partition_key=event_id, data=data)
                    record = to_kafka(event)
                    signed = sign_record(secret, event.id, datetime.now(UTC), record.value)
                    headers = [*record.headers, *((k, v.encode()) for k, v in signed.items())]
                    await producer.send_and_wait(topic, record.value, key=record.key, headers=headers)
                    ids.append(event_id)
                    progress.advance(task)
        finally:
            await producer.stop()
        return ids

    for event_id in asyncio.run(publish()):
        console.print(event_id)


def main() -> None:
    app()
