"""The issuance service's use cases behind the API: issue one or a file, present a credential
(JSON with a Data Integrity proof, or the JWS), sign status lists, verify, recipient look-up.
Routes stay thin; storage stays free of signing policy."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from mimis_platform.mongo import Document
from services.issuance.catalogue import CatalogueReadModel, NotIssuable
from services.issuance.domain.assessment import AssessmentRefused, IssueCommand, learner_of_request
from services.issuance.domain.credential import CatalogueVersion
from services.issuance.domain.data_integrity import add_proof
from services.issuance.domain.issuing import IssuedCredential
from services.issuance.domain.status_list import Bitstring, StatusPurpose, status_entries, status_list_credential
from services.issuance.domain.vc_jose import issuer_id
from services.issuance.domain.verification import Check, CheckName, Verification, failed, passed
from services.issuance.domain.verifier import REVOKED, SUSPENDED, CredentialVerification, verify_credential
from services.issuance.keystore import KeyStore
from services.issuance.storage import CredentialStore, IndexTaken, Issued

JsonObject = dict[str, Any]
CSV_COLUMNS = ("micro_credential_id", "version", "learner_name", "learner_email", "date_of_birth",
               "personal_identity_number", "language", "grade", "assessed_on", "evidence_url")
CSV_REQUIRED = ("micro_credential_id", "version", "learner_name", "learner_email")
_VERSION_PATH = re.compile(r"/catalog/micro-credentials/([^/]+)/versions/([0-9]+)$")
_LIST_PATH = re.compile(r"^([0-9]{1,9})(?:/(suspension))?$")  # after .../v1/status-lists/


class FileRefused(ValueError):
    """The file as a whole cannot be read (the message says why)."""


@dataclass
class RowReport:
    row: int  # 1-based data row (the header is row 0)
    ok: bool
    errors: list[str] = field(default_factory=list)
    credential_id: str | None = None


@dataclass
class BulkReport:
    rows: list[RowReport]
    issued: int

    @property
    def failed(self) -> int:
        return sum(not r.ok for r in self.rows)


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Issuer:
    def __init__(self, store: CredentialStore, catalogue: CatalogueReadModel, keys: KeyStore, lookup_key: bytes,
                 max_rows: int) -> None:
        self.store, self.catalogue, self.keys = store, catalogue, keys
        self.lookup_key, self.max_rows = lookup_key, max_rows
        self._lists: dict[tuple[int, StatusPurpose], tuple[int, JsonObject]] = {}

    # --- issuing ------------------------------------------------------------------------------
    async def _prepare(self, commands: Sequence[IssueCommand], versions: Sequence[CatalogueVersion],
                       now: datetime) -> list[tuple[IssueCommand, CatalogueVersion, IssuedCredential]]:
        return [(c, v, await self.store.prepare(c, v, now)) for c, v in zip(commands, versions, strict=True)]

    async def _issue_all(self, commands: Sequence[IssueCommand], versions: Sequence[CatalogueVersion]) -> list[Issued]:
        for attempt in range(4):
            now = now_utc()
            prepared = await self._prepare(commands, versions, now)
            try:
                return await self.store.issue_many(prepared, now)
            except (IndexTaken, DuplicateKeyError):
                if attempt == 3:
                    raise
                await self.store.refresh_allocator()
        raise AssertionError("unreachable")

    async def issue_one(self, command: IssueCommand) -> Issued:
        """Raises :class:`AssessmentRefused` or :class:`NotIssuable` when it cannot be issued."""
        version = await self.catalogue.issuable(command.provider_id, command.micro_credential_id, command.version)
        # Build once before writing so a refusal (e.g. a grade off the scale) is reported, not retried.
        await self.store.prepare(command, version, now_utc())
        return (await self._issue_all([command], [version]))[0]

    def command_of_row(self, provider_id: str, row: dict[str, str]) -> IssueCommand:
        def text(name: str) -> str | None:
            value = (row.get(name) or "").strip()
            return value or None

        version_text = text("version") or ""
        if not version_text.isdigit() or int(version_text) < 1:
            raise AssessmentRefused("version is a whole number from 1")
        pin = text("personal_identity_number")
        dob = text("date_of_birth")
        assessed = text("assessed_on")
        try:
            born = datetime.strptime(dob, "%Y-%m-%d").date() if dob else None
            assessed_on = datetime.strptime(assessed, "%Y-%m-%d").date() if assessed else None
        except ValueError:
            raise AssessmentRefused("dates are written YYYY-MM-DD") from None
        evidence = text("evidence_url")
        if evidence and not re.match(r"^https://\S+$", evidence):
            raise AssessmentRefused("evidence_url is an https URL")
        learner = learner_of_request(text("learner_name") or "", text("learner_email") or "", text("language") or "sv",
                                     born, pin, lookup_key=self.lookup_key)
        return IssueCommand(provider_id=provider_id, micro_credential_id=text("micro_credential_id") or "",
                            version=int(version_text), learner=learner, assessed_on=assessed_on,
                            grade=text("grade"), evidence_url=evidence)

    def read_csv(self, raw: bytes) -> list[dict[str, str]]:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FileRefused("the file is not UTF-8 text") from None
        sample = text[:4096]
        delimiter = ";" if sample.count(";") > sample.count(",") else ","  # Swedish spreadsheets save with ';'
        reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in CSV_REQUIRED if c not in header]
        if missing:
            raise FileRefused(f"the header lacks the columns: {', '.join(missing)} (columns: {', '.join(CSV_COLUMNS)})")
        unknown = [c for c in header if c not in CSV_COLUMNS]
        if unknown:
            raise FileRefused(f"unknown columns: {', '.join(unknown)} (columns: {', '.join(CSV_COLUMNS)})")
        rows: list[dict[str, str]] = []
        for row in reader:
            if None in row:
                raise FileRefused(f"row {len(rows) + 1} has more fields than the header")
            rows.append({(k or "").strip(): (v or "") for k, v in row.items()})
            if len(rows) > self.max_rows:
                raise FileRefused(f"a file holds at most {self.max_rows} rows")
        if not rows:
            raise FileRefused("the file has a header but no rows")
        return rows

    async def issue_file(self, provider_id: str, raw: bytes, *, dry_run: bool = False) -> BulkReport:
        """Every row checked first; if any fails, nothing is issued and each failure is reported.
        Otherwise all rows are issued in one transaction. Raises :class:`FileRefused`."""
        rows = self.read_csv(raw)
        reports: list[RowReport] = []
        commands: list[IssueCommand] = []
        versions: list[CatalogueVersion] = []
        seen: dict[tuple[str, str, int], int] = {}
        now = now_utc()
        for number, row in enumerate(rows, start=1):
            report = RowReport(number, True)
            reports.append(report)
            try:
                command = self.command_of_row(provider_id, row)
                twin = (command.learner.normalised_email, command.micro_credential_id, command.version)
                if twin in seen:
                    raise AssessmentRefused(f"the same learner and micro-credential version as row {seen[twin]}")
                seen[twin] = number
                version = await self.catalogue.issuable(provider_id, command.micro_credential_id, command.version)
                await self.store.prepare(command, version, now)  # builds and signs: catches e.g. a wrong grade
            except (AssessmentRefused, NotIssuable) as exc:
                report.ok, report.errors = False, [str(exc)]
                continue
            commands.append(command)
            versions.append(version)
        if dry_run or any(not r.ok for r in reports):
            return BulkReport(reports, 0)
        issued = await self._issue_all(commands, versions)
        for report, done in zip(reports, issued, strict=True):
            report.credential_id = done.credential_id
        return BulkReport(reports, len(issued))

    # --- presenting ---------------------------------------------------------------------------
    async def with_proof(self, doc: Document) -> JsonObject:
        """The credential as JSON with its Data Integrity proof (eddsa-rdfc-2022), made on first
        use: it costs ~20 ms of canonicalization, which issuance keeps off its hot path."""
        proof = doc.get("proof")
        if proof is None:
            key, method = await self.keys.signing_key()
            signed = add_proof(doc["document"], key, method, created=now_utc(), check_terms=False)
            proof = signed["proof"]
            await self.store.set_proof(doc["_id"], proof)
        return {**doc["document"], "proof": proof}

    async def status_list(self, number: int, purpose: StatusPurpose = StatusPurpose.REVOCATION) -> JsonObject | None:
        """The signed BitstringStatusListCredential *number* of ``purpose`` (revocation or
        suspension), made again only when a revocation (or a suspension or reinstatement) changed it."""
        found = await self.store.set_indexes(number, purpose)
        if found is None:
            return None
        revision, indexes = found
        cached = self._lists.get((number, purpose))
        if cached is not None and cached[0] == revision:
            return cached[1]
        bits = Bitstring()
        for index in indexes:
            bits.set(index)
        unsigned = status_list_credential(list_url=self.store.status_list_url(number, purpose), issuer=self.keys.did,
                                          purpose=purpose, bits=bits, valid_from=now_utc())
        key, method = await self.keys.signing_key()
        signed = add_proof(unsigned, key, method, created=now_utc(), check_terms=False)
        self._lists[(number, purpose)] = (revision, signed)
        return signed

    # --- verifying ----------------------------------------------------------------------------
    async def verify(self, presented: str | JsonObject) -> tuple[CredentialVerification, JsonObject | None]:
        ring = await self.keys.ring()
        lists: dict[str, JsonObject] = {}
        prefix = self.store.status_list_url(0)[:-1]
        for url in _status_urls(presented)[:4]:  # MIMIS's credentials name two lists; more is not ours
            match = _LIST_PATH.match(url[len(prefix):]) if url.startswith(prefix) else None
            if match is None:
                continue
            purpose = StatusPurpose.SUSPENSION if match.group(2) else StatusPurpose.REVOCATION
            signed = await self.status_list(int(match.group(1)), purpose)
            if signed is not None:
                lists[url] = signed
        result = verify_credential(presented, ring.assertion_keys(), now=datetime.now(UTC), status_lists=lists)
        credential = result.credential
        if credential is None or result.verification.check(CheckName.SIGNATURE) is None or not all(
                c.ok for c in result.verification.checks if c.name in (CheckName.SIGNATURE, CheckName.FORMAT)):
            return result, None
        checks = list(result.verification.checks)
        local = await self.store.get(str(credential.get("id"))) if isinstance(credential.get("id"), str) else None
        if local is not None:  # MIMIS's own answer gives the provider's reason too
            reasons = {REVOKED: local.get("revocation_reason") if local.get("status") == "revoked" else None,
                       SUSPENDED: local.get("suspension_reason") if local.get("suspended") else None}
            checks = [Check(c.name, c.ok, f"{c.reason}: {reasons[c.reason]}")
                      if c.name is CheckName.STATUS and not c.ok and reasons.get(c.reason) else c for c in checks]
        issuer = issuer_id(credential)
        checks.append(passed(CheckName.ISSUER_TRUSTED, f"{issuer} is the MIMIS issuer") if issuer == self.keys.did
                      else failed(CheckName.ISSUER_TRUSTED, f"{issuer!r} is not an issuer MIMIS trusts"))
        checks.append(await self._catalogue_check(credential))
        return CredentialVerification(Verification(tuple(checks)), credential), local

    async def _catalogue_check(self, credential: JsonObject) -> Check:
        subject = credential.get("credentialSubject")
        achievement = subject.get("achievement") if isinstance(subject, dict) else None
        url = achievement.get("id") if isinstance(achievement, dict) else None
        match = _VERSION_PATH.search(url) if isinstance(url, str) else None
        if match is None:
            return failed(CheckName.CATALOGUE_VERSION, "the achievement names no catalogue version")
        mc, version = match.group(1), int(match.group(2))
        status = await self.catalogue.version_exists(mc, version)
        if status is None:
            return failed(CheckName.CATALOGUE_VERSION, f"micro-credential {mc} version {version} is not in the "
                                                       f"catalogue")
        return passed(CheckName.CATALOGUE_VERSION, f"micro-credential {mc} version {version} is in the catalogue "
                                                   f"({status})")

    # --- recipient ----------------------------------------------------------------------------
    async def share_url(self, doc: Document, days: int) -> str:
        now = now_utc()
        share = await self.store.reusable_share(doc["_id"], now, "issuance")
        if share is None:
            share = await self.store.create_share(doc["_id"], doc["learner_ref"], now + timedelta(days=days), now,
                                                  "issuance")
        return self.store.share_link(str(share["_id"]))


def _status_urls(presented: str | JsonObject) -> list[str]:
    """The status list URLs a presented credential names (one entry, or an array of them)."""
    credential: Any = presented
    if isinstance(presented, str):
        parts = presented.split(".")
        if len(parts) != 3 or len(parts[1]) > 1_000_000:
            return []
        try:
            credential = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except (ValueError, UnicodeDecodeError):
            return []
    if not isinstance(credential, dict):
        return []
    urls = [e.get("statusListCredential") for e in status_entries(credential) if isinstance(e, dict)]
    return list(dict.fromkeys(u for u in urls if isinstance(u, str)))
