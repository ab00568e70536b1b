"""Factories for the issuance domain's tests: one issuer, deterministic keys, one catalogue
version with every EU element filled in, and credentials built, signed and listed from them."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from services.catalog.tests.factories import content, provider
from services.issuance.domain.credential import CatalogueVersion, IssuerProfile, build_credential
from services.issuance.domain.data_integrity import add_proof
from services.issuance.domain.keys import KeyRing, SigningKey, did_web
from services.issuance.domain.learner import Learner
from services.issuance.domain.status_list import Bitstring, StatusPurpose, status_entry, status_list_credential

VECTORS = Path(__file__).resolve().parent / "vectors"  # the W3C vc-di-eddsa test vectors

DID = did_web("mimis.skane.se")
ISSUER = IssuerProfile(DID, "MIMIS – mikromeriter i Skåne", url="https://mimis.skane.se")
ISSUED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LIST_URL = "https://mimis.skane.se/status/revocation/1"
SUSPENSION_LIST_URL = "https://mimis.skane.se/status/suspension/1"
INDEX = 94_567
LEARNER_EMAIL = "Anna.Svensson@Example.se"
LEARNER_ID = "urn:uuid:0b7b1f5e-3c1d-4c5e-9d52-6c2f0b1e8a41"
ESCO_HYGIENE = "http://data.europa.eu/esco/skill/4f6fd3a4-52a4-4b8d-8ad6-4d6bea9bd9bc"


def vector(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return loaded


def signing_key(kid: str = "key-2026-01", seed_byte: int = 1) -> SigningKey:
    return SigningKey.from_seed(kid, bytes([seed_byte]) * 32)


def key_ring(*keys: SigningKey) -> KeyRing:
    ring = KeyRing(DID)
    for i, key in enumerate(keys or (signing_key(),)):
        ring = ring.rotate(key.public, datetime(2026, 1, 1 + i, tzinfo=UTC))
    return ring


def full_content() -> Any:
    """A catalogue entry with every optional EU element too."""
    return content(
        co_awarding_bodies=[{"name": "Region Skåne", "organisation_number": "232100-0255"}],
        assessment={"type": "practical-demonstration", "description": {"sv": "Praktiskt prov på avdelningen.",
                                                                       "en": "A practical test on the ward."}},
        quality_assurance={"types": ["internal", "external-review"],
                           "description": {"sv": "Granskad av MIMIS kvalitetsråd."}},
        prerequisites={"sv": "Inga förkunskapskrav.", "en": "No prerequisites."},
        supervision={"supervised_assessment": True, "identity_verified": True},
        grading={"scheme": "pass-distinction"},
        integration={"stackability": "stackable", "towards": [{"sv": "Undersköterska", "en": "Assistant nurse"}]},
        further_information={"sv": "Ges varje termin.", "en": "Given every term."},
        further_information_url="https://www.hkr.se/mikromeriter/hygien",
    )


def catalogue(**overrides: Any) -> CatalogueVersion:
    return CatalogueVersion(
        micro_credential_id=overrides.pop("micro_credential_id", "mc-hygien"),
        version=overrides.pop("version", 3),
        provider_id=overrides.pop("provider_id", "prov-hkr"),
        provider=overrides.pop("provider", provider(website="https://www.hkr.se")),
        content=overrides.pop("content", full_content()),
    )


def both_entries(index: int = INDEX) -> list[dict[str, Any]]:
    """What MIMIS issues since suspension exists: a revocation and a suspension entry, one index."""
    return [status_entry(LIST_URL, index), status_entry(SUSPENSION_LIST_URL, index, StatusPurpose.SUSPENSION)]


def credential(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "issuer": ISSUER,
        "catalogue": catalogue(),
        "learner": Learner(email=LEARNER_EMAIL, subject_id=LEARNER_ID, name="Anna Svensson"),
        "credential_status": status_entry(LIST_URL, INDEX),
        "valid_from": ISSUED_AT,
        "credential_id": "urn:uuid:5a0f3c2e-8d1b-4f6a-9c3e-2b7d1e0f4a55",
        "grade": "VG",
        "assessed_on": date(2026, 2, 27),
        "evidence_url": "https://lms.hkr.se/evidence/42",
        "email_salt": "c0ffee00c0ffee00c0ffee00c0ffee00",
    }
    arguments.update(overrides)
    return build_credential(**arguments)


def signed_credential(key: SigningKey | None = None, **overrides: Any) -> dict[str, Any]:
    key = key or signing_key()
    return add_proof(credential(**overrides), key, f"{DID}#{key.kid}", created=ISSUED_AT)


def signed_status_list(
    revoked: tuple[int, ...] = (), key: SigningKey | None = None, *, url: str = LIST_URL,
    purpose: StatusPurpose = StatusPurpose.REVOCATION,
) -> dict[str, Any]:
    key = key or signing_key()
    bits = Bitstring()
    for index in revoked:
        bits.set(index)
    unsigned = status_list_credential(list_url=url, issuer=DID, purpose=purpose, bits=bits, valid_from=ISSUED_AT)
    return add_proof(unsigned, key, f"{DID}#{key.kid}", created=ISSUED_AT)


def tampered(document: dict[str, Any], path: Sequence[str | int], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    node: Any = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed
