"""Credentials secured as a compact JWS (VC-JOSE / Open Badges 3.0 "VC-JWT", §8.2).

The payload is the credential itself (its members at the top level, no ``vc`` wrapper) plus the
registered claims Open Badges names: ``iss`` = issuer id, ``jti`` = credential id, ``nbf`` =
``validFrom``, ``sub`` = subject id (when the subject has one), ``exp`` = ``validUntil`` (when
set). The header names the signing key by its full verification method id (``kid``), which is
also the ``kid`` of that key in the issuer's JWKS, so any JOSE library can pick the key.

Signed with ``alg: Ed25519`` (RFC 9864, the fully specified name); verification accepts the
older ``EdDSA`` too, for Ed25519 keys only.
"""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import OKPKey

from services.issuance.domain.keys import PublicKey, SigningKey
from services.issuance.domain.verification import Check, CheckName, Verification, failed, passed

JsonObject = dict[str, Any]

SIGNING_ALGORITHM = "Ed25519"
ACCEPTED_ALGORITHMS = ("Ed25519", "EdDSA")
# Open Badges 3.0's JOSE header example carries typ "JWT"; VC-JOSE-COSE names "vc+jwt". Both are read.
TYP = "JWT"
ACCEPTED_TYPS = (None, "JWT", "vc+jwt")
MAX_TOKEN_LENGTH = 512 * 1024  # a verifier's input comes from anyone; real credentials are a few KiB


class JwsError(ValueError):
    """The credential cannot be signed as a JWS (the message says why)."""


def issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, Mapping) and isinstance(issuer.get("id"), str):
        return str(issuer["id"])
    return None


def subject_id(credential: Mapping[str, Any]) -> str | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
        return str(subject["id"])
    return None


def _epoch(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(moment.timestamp()) if moment.tzinfo is not None else None


@contextmanager
def _eddsa_asked_for() -> Iterator[None]:
    # joserfc warns that "EdDSA" is deprecated (RFC 9864); here it is only ever used on purpose
    # (a caller's explicit choice, or a token that names it), so the warning would be noise.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)
        yield


def _canonical_segments(token: str) -> bool:
    segments = token.split(".")
    # An empty signature is well-formed (an unsecured JWS); the alg check refuses it with its reason.
    if len(segments) != 3 or not segments[0] or not segments[1]:
        return False
    for segment in segments:
        if not segment.isascii() or "=" in segment:
            return False
        try:
            decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        except ValueError:
            return False
        if base64.urlsafe_b64encode(decoded).rstrip(b"=").decode("ascii") != segment:
            return False
    return True


def registered_claims(credential: Mapping[str, Any]) -> JsonObject:
    """The JWT claims Open Badges 3.0 derives from the credential."""
    claims: JsonObject = {}
    iss, sub = issuer_id(credential), subject_id(credential)
    nbf, exp = _epoch(credential.get("validFrom")), _epoch(credential.get("validUntil"))
    if iss is not None:
        claims["iss"] = iss
    if isinstance(credential.get("id"), str):
        claims["jti"] = credential["id"]
    if nbf is not None:
        claims["nbf"] = nbf
    if sub is not None:
        claims["sub"] = sub
    if exp is not None:
        claims["exp"] = exp
    return claims


def sign_jws(
    credential: JsonObject, key: SigningKey, verification_method: str, *, algorithm: str = SIGNING_ALGORITHM
) -> str:
    """The compact JWS of an unsecured credential. ``algorithm`` may be the older name ``EdDSA``
    for verifiers that do not know RFC 9864 yet (PyJWT 2.15, for one); the signature is the same."""
    if algorithm not in ACCEPTED_ALGORITHMS:
        raise JwsError(f"Ed25519 keys sign as {' or '.join(ACCEPTED_ALGORITHMS)}, not {algorithm!r}")
    if "proof" in credential:
        raise JwsError("a VC-JOSE credential carries no embedded proof; sign the unsecured credential")
    claims = registered_claims(credential)
    for name in ("iss", "jti", "nbf"):
        if name not in claims:
            raise JwsError(f"the credential lacks what the {name!r} claim is made from")
    clash = [name for name in claims if name in credential]
    if clash:
        raise JwsError(f"the credential already has members named like JWT claims: {', '.join(clash)}")
    payload = json.dumps({**credential, **claims}, ensure_ascii=False, separators=(",", ":")).encode()
    header = {"alg": algorithm, "kid": verification_method, "typ": TYP}
    with _eddsa_asked_for():
        return jws.serialize_compact(header, payload, OKPKey.import_key(key.cryptography_key()),
                                     algorithms=[algorithm])


@dataclass(frozen=True)
class JwsVerification:
    verification: Verification
    credential: JsonObject | None  # the payload less the JWT claims, once the signature holds
    header: JsonObject | None


def verify_jws(token: str, keys: Mapping[str, PublicKey]) -> JwsVerification:
    """Check a compact JWS against the keys the issuer publishes (verification method id ->
    key): header, key, signature, and that the JWT claims agree with the credential."""
    checks: list[Check] = []
    token = token.strip()
    if len(token) > MAX_TOKEN_LENGTH:
        return JwsVerification(Verification((failed(CheckName.FORMAT, f"a token longer than {MAX_TOKEN_LENGTH} "
                                                                      f"characters is no credential of ours"),)),
                               None, None)
    if not _canonical_segments(token):
        # A base64url decoder ignores the unused low bits of a segment's last character, so two
        # tokens can decode alike; accepting only the canonical one makes every changed byte count.
        return JwsVerification(Verification((failed(CheckName.FORMAT, "not a compact JWS: three canonical "
                                                                      "base64url segments expected"),)), None, None)
    try:
        extracted = jws.extract_compact(token.encode("ascii"))
        header = dict(extracted.headers())
        payload = json.loads(extracted.payload)
    except (JoseError, ValueError, UnicodeError, RecursionError) as exc:
        return JwsVerification(Verification((failed(CheckName.FORMAT, f"not a compact JWS with a JSON payload: "
                                                                       f"{exc}"),)), None, None)
    if not isinstance(payload, dict):
        return JwsVerification(Verification((failed(CheckName.FORMAT, "the JWS payload is not a JSON object"),)),
                               None, header)
    checks.append(passed(CheckName.FORMAT, "compact JWS with a JSON object payload"))

    alg, kid, typ = header.get("alg"), header.get("kid"), header.get("typ")
    if alg not in ACCEPTED_ALGORITHMS:
        checks.append(failed(CheckName.PROOF, f"JWS alg {alg!r} is not one of {', '.join(ACCEPTED_ALGORITHMS)}"))
    elif typ not in ACCEPTED_TYPS:
        checks.append(failed(CheckName.PROOF, f"JWS typ {typ!r} is not a credential's (JWT or vc+jwt)"))
    elif not isinstance(kid, str):
        checks.append(failed(CheckName.PROOF, "the JWS header names no key (kid)"))
    elif "crit" in header:
        # No extension is understood here, so any critical one must fail (RFC 7515 §4.1.11).
        checks.append(failed(CheckName.PROOF, f"unsupported critical header parameters {header['crit']!r}"))
    else:
        checks.append(passed(CheckName.PROOF, f"JWS alg {alg}, kid {kid}"))
    if not checks[-1].ok:
        return JwsVerification(Verification(tuple(checks)), None, header)

    key = keys.get(str(kid))
    if key is None:
        checks.append(failed(CheckName.VERIFICATION_METHOD, f"{kid} is not a key the issuer publishes"))
        return JwsVerification(Verification(tuple(checks)), None, header)
    checks.append(passed(CheckName.VERIFICATION_METHOD, f"{kid} is published by the issuer"))

    try:
        with _eddsa_asked_for():
            jws.deserialize_compact(token, OKPKey.import_key(key.jwk()), algorithms=[str(alg)])
    except JoseError as exc:
        checks.append(failed(CheckName.SIGNATURE, f"the JWS signature does not match ({exc.error}): the token was "
                                                  f"changed after signing, or signed with another key"))
        return JwsVerification(Verification(tuple(checks)), None, header)
    checks.append(passed(CheckName.SIGNATURE, f"{alg} signature verifies with {kid}"))

    credential = {k: v for k, v in payload.items() if k not in ("iss", "jti", "nbf", "sub", "exp", "iat")}
    expected = registered_claims(credential)
    mismatched = [
        f"{name} is {payload.get(name)!r}, the credential says {expected.get(name)!r}"
        for name in ("iss", "jti", "nbf", "sub", "exp")
        if payload.get(name) != expected.get(name)
    ]
    if mismatched:
        checks.append(failed(CheckName.CLAIMS, "; ".join(mismatched)))
    else:
        checks.append(passed(CheckName.CLAIMS, "iss, jti, nbf (and sub, exp where present) agree with the "
                                               "credential"))
    return JwsVerification(Verification(tuple(checks)), credential, header)
