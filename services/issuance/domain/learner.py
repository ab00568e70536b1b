"""How a credential names its learner (EU element 1) without exposing more than it must.

Open Badges 3.0 identifies the subject by an ``id`` (e.g. a DID the learner controls) and/or
``identifier`` entries (IdentityObject). The e-mail address travels only hashed, with a fresh
random salt per credential so two credentials of one learner cannot be linked by their hashes;
whoever knows the address can still check it (``sha256$hex(sha256(email + salt))``, Open
Badges' form). A Swedish personal identity number is never put on a credential in any form:
its key space is small enough (~2^33) that even a salted hash is brute-forced in minutes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from mimis_platform.swedish_ids import InvalidIdentifier, parse_personal_identity_number

JsonObject = dict[str, Any]

# Runs of digits that could be a personnummer, written with or without separator or century.
_DIGIT_RUN = re.compile(r"(?<!\d)(?:\d{8}|\d{6})[-+]?\d{4}(?!\d)")


class LearnerIdentityError(ValueError):
    """The learner's identifiers cannot go on a credential (the message says why)."""


def contains_personal_identity_number(value: str, today: date | None = None) -> bool:
    for match in _DIGIT_RUN.finditer(value):
        try:
            parse_personal_identity_number(match.group(0), today)
        except InvalidIdentifier:
            continue
        return True
    return False


@dataclass(frozen=True)
class Learner:
    """Who the credential is for. ``subject_id`` is an IRI the learner controls or MIMIS assigns
    (a DID, or ``urn:uuid:...``); ``email`` is hashed on the credential; ``name`` is printed in
    clear, as the EU recommendation asks for the learner's identification."""

    email: str | None = None
    subject_id: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if not self.email and not self.subject_id:
            raise LearnerIdentityError("a credential names its learner by subject id or e-mail address (or both)")
        if self.subject_id is not None and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$", self.subject_id):
            raise LearnerIdentityError("the subject id is an IRI such as a DID or urn:uuid:...")
        for label, value in (("subject id", self.subject_id), ("name", self.name), ("e-mail address", self.email)):
            if value and contains_personal_identity_number(value):
                raise LearnerIdentityError(
                    f"the learner's {label} contains a Swedish personal identity number, which never goes on a "
                    "credential; use an e-mail address or a MIMIS learner id"
                )
        if self.email is not None and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", self.email.strip()):
            raise LearnerIdentityError("the learner's e-mail address is not an address")

    def __repr__(self) -> str:
        # Personal data stays out of logs and tracebacks.
        return "Learner(<redacted>)"

    __str__ = __repr__


def normalise_email(email: str) -> str:
    """Lower-cased and trimmed: providers' systems disagree on case, the learner does not."""
    return email.strip().lower()


def email_identity_hash(email: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((normalise_email(email) + salt).encode("utf-8")).hexdigest()


def hashed_email_identity(email: str, salt: str | None = None) -> JsonObject:
    salt = salt or secrets.token_hex(16)
    return {
        "type": "IdentityObject",
        "identityHash": email_identity_hash(email, salt),
        "identityType": "emailAddress",
        "hashed": True,
        "salt": salt,
    }


def name_identity(name: str) -> JsonObject:
    return {"type": "IdentityObject", "identityHash": name.strip(), "identityType": "name", "hashed": False}


def identity_matches(identity: JsonObject, email: str) -> bool:
    """Whether a hashed e-mail identity on a credential is this address (what a verifier who
    was told the address checks)."""
    salt = identity.get("salt")
    return (
        identity.get("identityType") == "emailAddress"
        and identity.get("hashed") is True
        and isinstance(salt, str)
        and secrets.compare_digest(str(identity.get("identityHash")), email_identity_hash(email, salt))
    )
