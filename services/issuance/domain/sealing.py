"""Secrets at rest: AES-256-GCM under a key-encryption key (KEK) taken from settings.

The KEK is derived with HKDF-SHA256 from the configured secret, so any length of configured
text gives a proper 256-bit key. Each sealed value binds its purpose and id as associated data:
a sealed signing key copied onto another key's record, or a provider secret onto another
provider, does not open.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEK_INFO = b"mimis-issuance-kek-v1"


class SealError(ValueError):
    """A sealed value does not open with this key and label (wrong KEK, or tampered)."""


@dataclass(frozen=True)
class Sealed:
    nonce: bytes
    ciphertext: bytes
    kek_id: str

    def as_document(self) -> dict[str, object]:
        return {"nonce": self.nonce, "ciphertext": self.ciphertext, "kek_id": self.kek_id}

    @classmethod
    def from_document(cls, doc: dict[str, object]) -> Sealed:
        return cls(bytes(doc["nonce"]), bytes(doc["ciphertext"]), str(doc["kek_id"]))  # type: ignore[call-overload]


class Sealer:
    def __init__(self, secret: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEK_INFO).derive(secret.encode())
        self._aead = AESGCM(key)
        # Names which KEK sealed a value (for a later KEK rotation), without revealing it.
        self.kek_id = HKDF(algorithm=hashes.SHA256(), length=6, salt=None, info=b"kek-id").derive(key).hex()

    def seal(self, plaintext: bytes, label: str) -> Sealed:
        nonce = os.urandom(12)
        return Sealed(nonce, self._aead.encrypt(nonce, plaintext, label.encode()), self.kek_id)

    def open(self, sealed: Sealed, label: str) -> bytes:
        try:
            return self._aead.decrypt(sealed.nonce, sealed.ciphertext, label.encode())
        except InvalidTag as exc:
            raise SealError(f"the sealed value for {label!r} does not open with this key-encryption key") from exc

    def __repr__(self) -> str:
        return f"Sealer(kek_id={self.kek_id})"
