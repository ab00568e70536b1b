"""Multibase and multicodec encodings used by Data Integrity, Multikey and status lists.

Only the encodings the specifications name are accepted: a value in another base is refused
rather than guessed, because a verifier that decodes leniently accepts more than was signed.
"""

from __future__ import annotations

import base64

import base58

BASE58BTC = "z"
BASE64URL = "u"

# Multicodec varint prefixes (https://github.com/multiformats/multicodec, table.csv).
ED25519_PUB = bytes([0xED, 0x01])
ED25519_PRIV = bytes([0x80, 0x26])


class MultibaseError(ValueError):
    """The value is not multibase in the expected encoding (the message says what is wrong)."""


def encode_base58btc(data: bytes) -> str:
    encoded: bytes = base58.b58encode(data)
    return BASE58BTC + encoded.decode("ascii")


def decode_base58btc(value: str) -> bytes:
    if not isinstance(value, str) or not value.startswith(BASE58BTC):
        raise MultibaseError("expected multibase base58btc (a string starting with 'z')")
    try:
        decoded: bytes = base58.b58decode(value[1:])
    except ValueError as exc:
        raise MultibaseError(f"not base58btc: {exc}") from exc
    return decoded


def encode_base64url(data: bytes) -> str:
    return BASE64URL + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_base64url(value: str) -> bytes:
    if not isinstance(value, str) or not value.startswith(BASE64URL):
        raise MultibaseError("expected multibase base64url (a string starting with 'u')")
    body = value[1:]
    if "=" in body:
        raise MultibaseError("multibase base64url carries no padding")
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as exc:
        raise MultibaseError(f"not base64url: {exc}") from exc


def encode_multikey(prefix: bytes, key: bytes) -> str:
    return encode_base58btc(prefix + key)


def decode_multikey(value: str, prefix: bytes, length: int = 32) -> bytes:
    raw = decode_base58btc(value)
    if not raw.startswith(prefix):
        raise MultibaseError(f"expected multicodec prefix 0x{prefix.hex()}, got 0x{raw[:2].hex()}")
    key = raw[len(prefix):]
    if len(key) != length:
        raise MultibaseError(f"expected a {length}-byte key, got {len(key)} bytes")
    return key
