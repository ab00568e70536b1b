"""Issuer signing keys (Ed25519), the issuer's ``did:web`` DID document and its JWKS.

A key ring holds every key the issuer ever published. Rotation makes the new key active and
keeps the old one *retired*: no longer used to sign, still listed (in the DID document's
``verificationMethod`` and ``assertionMethod``, and in the JWKS), so every credential signed
with it stays verifiable. Only a *revoked* key (one that may have leaked) is withdrawn, which
is exactly when its signatures should stop verifying.

The private half lives only in :class:`SigningKey`, whose ``repr``/``str`` show the kid and
the public key and nothing else, so a key logged by accident leaks nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote, unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.issuance.domain.jsonld import DID_V1, MULTIKEY_V1
from services.issuance.domain.multibase import ED25519_PRIV, ED25519_PUB, decode_multikey, encode_multikey

JsonObject = dict[str, Any]


class InvalidKey(ValueError):
    """A key, key id or DID document that cannot be used (the message says why)."""


# --- did:web --------------------------------------------------------------------------------


def did_web(host: str, *path: str) -> str:
    """``did:web`` for a host (a port is percent-encoded, as the method requires) and an
    optional path: ``did_web("mimis.skane.se")`` -> ``did:web:mimis.skane.se``."""
    parts = [quote(host.lower(), safe="")] + [quote(p, safe="") for p in path]
    return "did:web:" + ":".join(parts)


def did_web_document_url(did: str) -> str:
    """Where a ``did:web`` DID document is served (did:web method specification, §3.2)."""
    if not did.startswith("did:web:"):
        raise InvalidKey(f"{did!r} is not a did:web DID")
    host, *path = did.removeprefix("did:web:").split(":")
    base = f"https://{unquote(host)}"
    if path:
        return base + "/" + "/".join(unquote(p) for p in path) + "/did.json"
    return base + "/.well-known/did.json"


# --- keys -----------------------------------------------------------------------------------


def _check_kid(kid: str) -> str:
    # The kid becomes a DID URL fragment and a JWK "kid": keep it to characters that need no escaping.
    if not kid or not all(c.isascii() and (c.isalnum() or c in "-_.") for c in kid) or len(kid) > 64:
        raise InvalidKey(f"a key id is 1-64 characters of A-Z, a-z, 0-9, '-', '_', '.', not {kid!r}")
    return kid


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key with its key id (the fragment of its verification method)."""

    kid: str
    raw: bytes

    def __post_init__(self) -> None:
        _check_kid(self.kid)
        if len(self.raw) != 32:
            raise InvalidKey(f"an Ed25519 public key is 32 bytes, not {len(self.raw)}")

    @classmethod
    def from_multikey(cls, kid: str, public_key_multibase: str) -> PublicKey:
        return cls(kid, decode_multikey(public_key_multibase, ED25519_PUB))

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any], kid: str | None = None) -> PublicKey:
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
            raise InvalidKey("expected an OKP JWK on curve Ed25519 with an 'x' member")
        x: str = jwk["x"]
        raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
        name = kid or str(jwk.get("kid", "")).rsplit("#", 1)[-1]
        return cls(name, raw)

    @property
    def multikey(self) -> str:
        """``publicKeyMultibase`` of a Multikey: base58btc of 0xed01 + the 32 key bytes."""
        return encode_multikey(ED25519_PUB, self.raw)

    def cryptography_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.raw)

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            self.cryptography_key().verify(signature, data)
        except InvalidSignature:
            return False
        return True

    def jwk(self, kid: str | None = None) -> JsonObject:
        # No "alg": the same key serves both JOSE names of Ed25519 ("Ed25519", RFC 9864, and "EdDSA").
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": base64.urlsafe_b64encode(self.raw).rstrip(b"=").decode("ascii"),
            "kid": kid or self.kid,
            "use": "sig",
        }


@dataclass(frozen=True, repr=False)
class SigningKey:
    """An Ed25519 private key. Never printed: ``repr``/``str`` show only kid and public key."""

    kid: str
    _private: Ed25519PrivateKey = field(compare=False)

    def __post_init__(self) -> None:
        _check_kid(self.kid)

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        return cls(kid, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, kid: str, seed: bytes) -> SigningKey:
        if len(seed) != 32:
            raise InvalidKey(f"an Ed25519 private key (seed) is 32 bytes, not {len(seed)}")
        return cls(kid, Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_secret_multibase(cls, kid: str, secret_key_multibase: str) -> SigningKey:
        """From a Multikey ``secretKeyMultibase`` (base58btc of 0x8026 + the 32-byte seed)."""
        return cls.from_seed(kid, decode_multikey(secret_key_multibase, ED25519_PRIV))

    def export_secret_multibase(self) -> str:
        """The private key as Multikey ``secretKeyMultibase``, for the key store to encrypt.
        Named loudly on purpose: nothing else hands the private key out."""
        seed = self._private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return encode_multikey(ED25519_PRIV, seed)

    @property
    def public(self) -> PublicKey:
        raw = self._private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return PublicKey(self.kid, raw)

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)

    def cryptography_key(self) -> Ed25519PrivateKey:
        return self._private

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r}, public={self.public.multikey!r}, private=<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        # Pickling would copy the private key into whatever serialises it (caches, task queues).
        raise TypeError("a SigningKey is not serialisable; store export_secret_multibase() encrypted instead")


# --- the issuer's key ring --------------------------------------------------------------------


class KeyState(StrEnum):
    ACTIVE = "active"  # signs new credentials; exactly one at a time
    RETIRED = "retired"  # rotated out: signs nothing new, still verifies what it signed
    REVOKED = "revoked"  # withdrawn (e.g. suspected leak): no longer published, so stops verifying


@dataclass(frozen=True)
class PublishedKey:
    public: PublicKey
    state: KeyState
    created_at: datetime
    retired_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def kid(self) -> str:
        return self.public.kid


@dataclass(frozen=True)
class KeyRing:
    """The public side of an issuer's keys, in the order they were created."""

    did: str
    keys: tuple[PublishedKey, ...] = ()

    def __post_init__(self) -> None:
        kids = [k.kid for k in self.keys]
        if len(set(kids)) != len(kids):
            raise InvalidKey("each key id appears once in a key ring")
        if sum(k.state is KeyState.ACTIVE for k in self.keys) > 1:
            raise InvalidKey("a key ring has at most one active key")

    def verification_method_id(self, kid: str) -> str:
        return f"{self.did}#{kid}"

    @property
    def active(self) -> PublishedKey | None:
        return next((k for k in self.keys if k.state is KeyState.ACTIVE), None)

    def rotate(self, new: PublicKey, now: datetime) -> KeyRing:
        """Make ``new`` the active key; the previous active key is retired (still published)."""
        if any(k.kid == new.kid for k in self.keys):
            raise InvalidKey(f"key id {new.kid!r} was used before; a rotated key needs a new id")
        kept = tuple(
            replace(k, state=KeyState.RETIRED, retired_at=now) if k.state is KeyState.ACTIVE else k for k in self.keys
        )
        return replace(self, keys=(*kept, PublishedKey(new, KeyState.ACTIVE, now)))

    def revoke(self, kid: str, now: datetime) -> KeyRing:
        if not any(k.kid == kid for k in self.keys):
            raise InvalidKey(f"no key {kid!r} in the key ring of {self.did}")
        return replace(
            self,
            keys=tuple(
                replace(k, state=KeyState.REVOKED, revoked_at=now) if k.kid == kid else k for k in self.keys
            ),
        )

    def published(self) -> list[PublishedKey]:
        return [k for k in self.keys if k.state is not KeyState.REVOKED]

    def did_document(self) -> JsonObject:
        """The DID document served at :func:`did_web_document_url`: every published key as a
        Multikey verification method, all of them usable for assertions (signing credentials)."""
        methods = [
            {
                "id": self.verification_method_id(k.kid),
                "type": "Multikey",
                "controller": self.did,
                "publicKeyMultibase": k.public.multikey,
            }
            for k in self.published()
        ]
        return {
            "@context": [DID_V1, MULTIKEY_V1],
            "id": self.did,
            "verificationMethod": methods,
            "assertionMethod": [m["id"] for m in methods],
        }

    def jwks(self) -> JsonObject:
        """The same keys as a JWK Set; each ``kid`` is the full verification method id, which is
        what a VC-JOSE credential's header names."""
        return {"keys": [k.public.jwk(self.verification_method_id(k.kid)) for k in self.published()]}

    def assertion_keys(self) -> dict[str, PublicKey]:
        return {self.verification_method_id(k.kid): k.public for k in self.published()}


def assertion_keys_from_did_document(document: Mapping[str, Any]) -> dict[str, PublicKey]:
    """Verification method id -> key for the Multikey methods a DID document lists under
    ``assertionMethod`` (by reference or embedded). What a verifier trusts is what the issuer
    publishes, so this reads the served document, not the issuer's own database."""
    did = document.get("id")
    if not isinstance(did, str):
        raise InvalidKey("a DID document has an 'id'")
    methods: dict[str, Mapping[str, Any]] = {}
    for method in document.get("verificationMethod", []):
        if isinstance(method, Mapping) and isinstance(method.get("id"), str):
            methods[_absolute(did, method["id"])] = method
    keys: dict[str, PublicKey] = {}
    for entry in document.get("assertionMethod", []):
        method = methods.get(_absolute(did, entry)) if isinstance(entry, str) else entry
        if not isinstance(method, Mapping) or method.get("type") != "Multikey":
            continue
        if method.get("controller") != did:
            continue
        vm_id = _absolute(did, str(method.get("id")))
        keys[vm_id] = PublicKey.from_multikey(vm_id.rsplit("#", 1)[-1], str(method.get("publicKeyMultibase")))
    return keys


def _absolute(did: str, ref: str) -> str:
    return did + ref if ref.startswith("#") else ref
