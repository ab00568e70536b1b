"""What a provider asks issuance to do: issue one credential to one learner for one catalogue
version. The same command comes from a provider's event, the API or a row of a CSV file.

Also the two keyed values issuance computes from learner data: the look-up value of a Swedish
personal identity number (HMAC; the number itself is never kept) and the check of a
provider's Standard Webhooks signature on its event.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from standardwebhooks.webhooks import Webhook

from mimis_platform.swedish_ids import InvalidIdentifier, parse_personal_identity_number
from services.issuance.domain.learner import LearnerIdentityError, contains_personal_identity_number, normalise_email

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SECRET_PREFIX = "whsec_"


class AssessmentRefused(ValueError):
    """The request can never be issued as it is (the message says why)."""


@dataclass(frozen=True)
class LearnerData:
    """Personal data; ``repr`` hides it so it cannot reach a log by accident."""

    name: str
    email: str
    language: str = "sv"
    date_of_birth: date | None = None
    pin_lookup: str | None = None  # HMAC of the personal identity number, never the number

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > 300:
            raise AssessmentRefused("the learner's name is 1 to 300 characters")
        if not _EMAIL.match(self.email.strip()) or len(self.email) > 254:
            raise AssessmentRefused("the learner's e-mail address is not an address")
        if self.language not in ("sv", "en"):
            raise AssessmentRefused("the learner's language is sv or en")
        for label, value in (("name", self.name), ("e-mail address", self.email)):
            if contains_personal_identity_number(value):
                raise AssessmentRefused(f"the learner's {label} contains a personal identity number")

    def __repr__(self) -> str:
        return "LearnerData(<redacted>)"

    __str__ = __repr__

    @property
    def normalised_email(self) -> str:
        return normalise_email(self.email)


@dataclass(frozen=True)
class IssueCommand:
    provider_id: str
    micro_credential_id: str
    version: int
    learner: LearnerData
    assessed_on: date | None = None
    grade: str | None = None
    evidence_url: str | None = None
    source_event_id: str | None = None  # the provider's own event id, when it came as an event
    # The learner's pseudonym when the command names a learner already registered (a v2 event);
    # ``learner`` then holds the record's data, read at issue time.
    learner_ref: str | None = None

    def __repr__(self) -> str:
        return (f"IssueCommand({self.provider_id}, {self.micro_credential_id} v{self.version}, "
                f"source={self.source_event_id})")


def pin_lookup(personal_identity_number: str, key: bytes, today: date | None = None) -> str:
    """The keyed look-up value of a personnummer / samordningsnummer (12-digit form, HMAC-SHA256).

    Raises :class:`AssessmentRefused` for a number that is not valid (its message never repeats
    the number)."""
    try:
        parsed = parse_personal_identity_number(personal_identity_number, today)
    except InvalidIdentifier as exc:
        raise AssessmentRefused(f"the personal identity number is not valid: {exc}") from None
    return "hmac-sha256$" + hmac.new(key, parsed.twelve_digits.encode(), hashlib.sha256).hexdigest()


def _date(value: Any, what: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise AssessmentRefused(f"{what} is a date written YYYY-MM-DD") from None


def learner_from_record(doc: Mapping[str, Any]) -> LearnerData:
    """The learner data of a stored learner record (validated when it was registered)."""
    return LearnerData(name=doc["name"], email=doc["email"], language=doc.get("language") or "sv",
                       date_of_birth=_date(doc.get("date_of_birth"), "the date of birth"),
                       pin_lookup=doc.get("pin_lookup"))


def learner_problem(learner_ref: str, doc: Mapping[str, Any] | None) -> str | None:
    """Why a learner_ref of an assessment event cannot be issued to (None when it can)."""
    if doc is None:
        return (f"unknown learner_ref {learner_ref}: register the learner first "
                "(POST /v1/providers/{provider_id}/learners) and send the learner_ref it answers")
    if doc.get("erased_at") is not None:
        return f"learner {learner_ref} was erased on request: nothing more is issued to this learner_ref"
    return None


def command_from_assessment(data: Mapping[str, Any], learner: LearnerData) -> IssueCommand:
    """The command of a ``provider.assessment.recorded.v2`` event that passed its schema, for the
    learner its ``learner_ref`` names (read from the learner record)."""
    return IssueCommand(
        provider_id=data["provider_id"], micro_credential_id=data["micro_credential_id"], version=int(data["version"]),
        learner=learner, assessed_on=_date(data["assessed_on"], "the assessment date"), grade=data.get("grade"),
        evidence_url=data.get("evidence_url"), source_event_id=data["provider_event_id"],
        learner_ref=data["learner_ref"],
    )


def learner_of_request(name: str, email: str, language: str = "sv", date_of_birth: date | None = None,
                       personal_identity_number: str | None = None, *, lookup_key: bytes,
                       today: date | None = None) -> LearnerData:
    """A learner as a provider describes them over HTTPS (registration, the API, a CSV row)."""
    try:
        return LearnerData(name=name, email=email, language=language or "sv", date_of_birth=date_of_birth,
                           pin_lookup=pin_lookup(personal_identity_number, lookup_key, today)
                           if personal_identity_number else None)
    except LearnerIdentityError as exc:
        raise AssessmentRefused(str(exc)) from None


# --- provider signatures (Standard Webhooks) ---------------------------------------------------


def new_provider_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes, as Standard Webhooks libraries expect."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign_record(secret: str, message_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers a provider puts on its record (what its integrator does in
    any language; here for tests, the demo and the README's example)."""
    signature = Webhook(secret).sign(message_id, timestamp, body.decode("utf-8"))
    return {"webhook-id": message_id, "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature}


def signature_problem(body: bytes, headers: Mapping[str, str], event_id: str, secrets_: Iterable[str]) -> str | None:
    """None when one of the provider's current secrets signed ``{webhook-id}.{timestamp}.{body}``
    and ``webhook-id`` is the event's id; otherwise why not.

    Unlike a webhook receiver, no ±5 minute window applies: Kafka may hold an event for days
    during an outage, and a replayed event is harmless (it issues nothing twice). The id binding
    keeps a signature from being moved onto another event."""
    message_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    offered = headers.get("webhook-signature")
    if not (message_id and timestamp and offered):
        return "missing Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature)"
    if message_id != event_id:
        return "webhook-id is not the event's id"
    if not timestamp.isdigit():
        return "webhook-timestamp is not unix seconds"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the record value is not UTF-8"
    moment = datetime.fromtimestamp(int(timestamp), tz=UTC)
    candidates = set()
    for part in offered.split():
        version, _, value = part.partition(",")
        if version == "v1" and value:
            candidates.add(value)
    if not candidates:
        return "webhook-signature has no v1 signature"
    known = list(secrets_)
    if not known:
        return "the provider has no event-signing secret (create one through the issuance API)"
    for secret in known:
        expected = Webhook(secret).sign(message_id, moment, text).split(",", 1)[1]
        if any(hmac.compare_digest(expected, value) for value in candidates):
            return None
    return "no signature matches a current event-signing secret of the provider"
