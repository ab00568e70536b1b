"""Results of verification: one named check each, with the reason it passed or failed.

A verdict alone ("invalid") tells an employer nothing they can act on; each check says what was
looked at and why it failed, and the overall verdict is simply that every check passed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class CheckName(StrEnum):
    FORMAT = "format"  # the input is a credential (JSON object or compact JWS) at all
    PROOF = "proof"  # the proof's own fields (type, cryptosuite, purpose, value)
    CONTEXTS = "contexts"  # every @context is held locally (rdfc) / matches the proof's (jcs)
    SAFE_MODE = "safe-mode"  # every property and type is defined, so the signature covers it
    VERIFICATION_METHOD = "verification-method"  # the signing key is one the issuer publishes
    ISSUER = "issuer"  # the key belongs to the credential's issuer
    SIGNATURE = "signature"
    CLAIMS = "claims"  # VC-JOSE registered claims agree with the credential
    VALIDITY_PERIOD = "validity-period"
    STATUS = "status"  # revocation / suspension in the Bitstring Status List
    STATUS_LIST = "status-list"  # the status list credential itself verifies
    # Added by the service (they need its data): the issuer is one this service trusts, and the
    # catalogue version the achievement names exists in the catalogue.
    ISSUER_TRUSTED = "issuer-trusted"
    CATALOGUE_VERSION = "catalogue-version"


@dataclass(frozen=True)
class Check:
    name: CheckName
    ok: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.name.value, "ok": self.ok, "reason": self.reason}


@dataclass(frozen=True)
class Verification:
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def __bool__(self) -> bool:
        return self.verified

    def check(self, name: CheckName) -> Check | None:
        return next((c for c in self.checks if c.name is name), None)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def plus(self, more: Iterable[Check]) -> Verification:
        return Verification((*self.checks, *more))

    def as_dict(self) -> dict[str, Any]:
        return {"verified": self.verified, "checks": [c.as_dict() for c in self.checks]}


def passed(name: CheckName, reason: str) -> Check:
    return Check(name, True, reason)


def failed(name: CheckName, reason: str) -> Check:
    return Check(name, False, reason)
