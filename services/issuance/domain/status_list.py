"""W3C Bitstring Status List v1.0: revocation and suspension without asking the issuer about
one credential.

Each credential gets an index in a list; the list is published as a signed credential whose
``encodedList`` is the multibase base64url (``u``, no padding) of the GZIP of the bitstring, bit
0 being the left-most bit of the first byte. A verifier fetches the whole list, so the issuer
never learns which credential is being checked; that only protects learners if lists are big
(at least 131,072 entries) and indexes are handed out at random, not in issue order (otherwise
an index dates a credential and links it to its neighbours).
"""

from __future__ import annotations

import gzip
import random
import secrets
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.issuance.domain.data_integrity import xsd_datetime
from services.issuance.domain.jsonld import VC_V2
from services.issuance.domain.multibase import MultibaseError, decode_base64url, encode_base64url

JsonObject = dict[str, Any]

MIN_LENGTH = 131_072  # bits (16 KiB): the specification's minimum, for herd privacy
MAX_BYTES = 16 * 1024 * 1024  # 134 million entries: far beyond any list, far below a GZIP bomb
STATUS_LIST_CREDENTIAL = "BitstringStatusListCredential"
STATUS_LIST = "BitstringStatusList"
STATUS_LIST_ENTRY = "BitstringStatusListEntry"


class StatusPurpose(StrEnum):
    REVOCATION = "revocation"  # final: a revoked credential never becomes valid again
    SUSPENSION = "suspension"  # reversible
    MESSAGE = "message"
    REFRESH = "refresh"


class StatusListError(ValueError):
    """A status list or entry that breaks the specification (the message says how)."""


class Bitstring:
    """A fixed-length bitstring; bit ``i`` is bit ``7 - i % 8`` of byte ``i // 8``."""

    def __init__(self, length: int = MIN_LENGTH, data: bytes | None = None) -> None:
        if length <= 0 or length % 8:
            raise StatusListError(f"a bitstring's length is a positive multiple of 8, not {length}")
        if data is not None and len(data) * 8 != length:
            raise StatusListError(f"{len(data)} bytes do not hold {length} bits")
        self.length = length
        self._bytes = bytearray(data if data is not None else length // 8)

    def _position(self, index: int) -> tuple[int, int]:
        if not 0 <= index < self.length:
            raise StatusListError(f"index {index} is outside the list (0..{self.length - 1})")
        return index // 8, 0x80 >> (index % 8)

    def get(self, index: int) -> bool:
        byte, mask = self._position(index)
        return bool(self._bytes[byte] & mask)

    def set(self, index: int, value: bool = True) -> None:
        byte, mask = self._position(index)
        if value:
            self._bytes[byte] |= mask
        else:
            self._bytes[byte] &= ~mask & 0xFF

    def clear(self, index: int) -> None:
        self.set(index, False)

    def value(self, index: int, size: int = 1) -> int:
        """The ``size``-bit status at entry ``index`` (bits ``index*size`` .. ``index*size+size-1``,
        most significant first)."""
        result = 0
        for bit in range(index * size, index * size + size):
            result = (result << 1) | self.get(bit)
        return result

    def set_value(self, index: int, value: int, size: int = 1) -> None:
        if not 0 <= value < (1 << size):
            raise StatusListError(f"a {size}-bit status holds 0..{(1 << size) - 1}, not {value}")
        for offset in range(size):
            self.set(index * size + offset, bool(value >> (size - 1 - offset) & 1))

    def set_indexes(self) -> list[int]:
        return [i for i in range(self.length) if self._bytes[i // 8] & (0x80 >> (i % 8))]

    def to_bytes(self) -> bytes:
        return bytes(self._bytes)

    def encode(self) -> str:
        """``encodedList``: multibase base64url of the GZIP; mtime 0 so the same bits always give
        the same text (a re-published list differs only when a status changed)."""
        return encode_base64url(gzip.compress(self.to_bytes(), mtime=0))

    @classmethod
    def decode(cls, encoded_list: str, *, min_length: int = MIN_LENGTH) -> Bitstring:
        try:
            compressed = decode_base64url(encoded_list)
        except MultibaseError as exc:
            raise StatusListError(f"encodedList: {exc}") from exc
        # A list comes from whoever the credential names: bound what its GZIP may inflate to.
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(compressed, MAX_BYTES + 1)
        except zlib.error as exc:
            raise StatusListError(f"encodedList is not GZIP data: {exc}") from exc
        if len(raw) > MAX_BYTES:
            raise StatusListError(f"the list inflates to more than {MAX_BYTES} bytes")
        if not inflater.eof:
            raise StatusListError("encodedList is not complete GZIP data")
        if len(raw) * 8 < min_length:
            raise StatusListError(f"the list holds {len(raw) * 8} bits, fewer than the minimum {min_length}")
        return cls(len(raw) * 8, raw)


class IndexAllocator:
    """Hands out unused indexes of one list uniformly at random (never in issue order, never
    twice: an index stays with its credential for good, even after revocation)."""

    def __init__(
        self, length: int = MIN_LENGTH, taken: Iterable[int] = (), rng: random.Random | None = None
    ) -> None:
        if length < MIN_LENGTH:
            raise StatusListError(f"a status list has at least {MIN_LENGTH} entries, not {length}")
        self._taken = Bitstring(length)
        self._count = 0
        # SystemRandom: an index predictable from the previous ones would leak issue order again.
        self._rng = rng or secrets.SystemRandom()
        for index in taken:
            self.mark_taken(index)

    @property
    def length(self) -> int:
        return self._taken.length

    @property
    def free(self) -> int:
        return self.length - self._count

    def mark_taken(self, index: int) -> None:
        if not self._taken.get(index):
            self._taken.set(index)
            self._count += 1

    def allocate(self) -> int:
        if self.free == 0:
            raise StatusListError("the status list is full; open a new list")
        # Random probing is O(1) while the list has room; past that, a uniform pick among the
        # free indexes keeps the distribution uniform without unbounded retries.
        for _ in range(32):
            candidate = self._rng.randrange(self.length)
            if not self._taken.get(candidate):
                self.mark_taken(candidate)
                return candidate
        free = [i for i in range(self.length) if not self._taken.get(i)]
        chosen = free[self._rng.randrange(len(free))]
        self.mark_taken(chosen)
        return chosen


# --- documents ------------------------------------------------------------------------------


def status_entry(list_url: str, index: int, purpose: StatusPurpose = StatusPurpose.REVOCATION) -> JsonObject:
    """The ``credentialStatus`` of a credential. Its ``id`` is the list URL plus the index as a
    fragment: an identifier of the entry, distinct from the list's own URL."""
    if index < 0:
        raise StatusListError("a status list index is 0 or more")
    return {
        "id": f"{list_url}#{index}",
        "type": STATUS_LIST_ENTRY,
        "statusPurpose": purpose.value,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_entries(credential: Mapping[str, Any]) -> list[Any]:
    """A credential's ``credentialStatus`` as a list: VC 2.0 allows one entry (an object) or
    several (an array; MIMIS's credentials carry one for revocation and one for suspension)."""
    entries = credential.get("credentialStatus")
    if entries is None:
        return []
    return list(entries) if isinstance(entries, list) else [entries]


def entry_for(credential: Mapping[str, Any], purpose: StatusPurpose) -> JsonObject | None:
    """The credential's entry of one purpose, if it has one."""
    return next((e for e in status_entries(credential)
                 if isinstance(e, dict) and e.get("statusPurpose") == purpose.value), None)


def status_list_credential(
    *,
    list_url: str,
    issuer: str,
    purpose: StatusPurpose,
    bits: Bitstring,
    valid_from: datetime,
    valid_until: datetime | None = None,
) -> JsonObject:
    """The (unsigned) BitstringStatusListCredential; the VC 2.0 context defines its terms."""
    if bits.length < MIN_LENGTH:
        raise StatusListError(f"a published status list has at least {MIN_LENGTH} bits")
    credential: JsonObject = {
        "@context": [VC_V2],
        "id": list_url,
        "type": ["VerifiableCredential", STATUS_LIST_CREDENTIAL],
        "issuer": issuer,
        "validFrom": xsd_datetime(valid_from),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": STATUS_LIST,
            "statusPurpose": purpose.value,
            "encodedList": bits.encode(),
        },
    }
    if valid_until is not None:
        credential["validUntil"] = xsd_datetime(valid_until)
    return credential


@dataclass(frozen=True)
class StatusResult:
    purpose: str
    index: int
    value: int

    @property
    def is_set(self) -> bool:
        """The bit is set: for revocation, revoked; for suspension, suspended."""
        return self.value != 0


def read_status(entry: Mapping[str, Any], list_credential: Mapping[str, Any]) -> StatusResult:
    """The status an entry points at, in a list credential already fetched (and whose proof the
    caller verifies separately). Raises :class:`StatusListError` when entry and list disagree."""
    if entry.get("type") != STATUS_LIST_ENTRY:
        raise StatusListError(f"credentialStatus type is {entry.get('type')!r}, not {STATUS_LIST_ENTRY!r}")
    purpose = entry.get("statusPurpose")
    if purpose not in {p.value for p in StatusPurpose}:
        raise StatusListError(f"unknown statusPurpose {purpose!r}")
    raw_index = entry.get("statusListIndex")
    if not isinstance(raw_index, str) or not raw_index.isdigit():
        raise StatusListError("statusListIndex is a base-10 integer written as a string")
    index = int(raw_index)
    size = entry.get("statusSize", 1)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise StatusListError("statusSize is a positive integer")
    if list_credential.get("id") != entry.get("statusListCredential"):
        raise StatusListError(
            f"the list fetched is {list_credential.get('id')!r}, not {entry.get('statusListCredential')!r}"
        )
    types = list_credential.get("type")
    if not isinstance(types, list) or STATUS_LIST_CREDENTIAL not in types:
        raise StatusListError(f"the list credential's type does not include {STATUS_LIST_CREDENTIAL}")
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != STATUS_LIST:
        raise StatusListError(f"the list credential's subject is not a {STATUS_LIST}")
    if subject.get("statusPurpose") != purpose:
        raise StatusListError(
            f"the entry's purpose is {purpose!r} but the list's is {subject.get('statusPurpose')!r}"
        )
    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        raise StatusListError("the list credential has no encodedList")
    bits = Bitstring.decode(encoded)
    if (index + 1) * size > bits.length:
        raise StatusListError(f"statusListIndex {index} is outside the list of {bits.length // size} entries")
    return StatusResult(str(purpose), index, bits.value(index, size))
