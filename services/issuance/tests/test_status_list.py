"""Bitstring Status List: bit order, encoding, random allocation, the signed list credential,
and reading a credential's status from it."""

from __future__ import annotations

import base64
import gzip
import itertools
import random

import pytest

from services.issuance.domain.data_integrity import verify_proof
from services.issuance.domain.status_list import (
    MAX_BYTES,
    MIN_LENGTH,
    Bitstring,
    IndexAllocator,
    StatusListError,
    StatusPurpose,
    entry_for,
    read_status,
    status_entries,
    status_entry,
)
from services.issuance.tests.factories import (
    DID,
    INDEX,
    LIST_URL,
    SUSPENSION_LIST_URL,
    signed_status_list,
    signing_key,
)

# The W3C specification's example: an empty list of 131,072 bits.
SPEC_EXAMPLE = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def raw(encoded: str) -> bytes:
    assert encoded.startswith("u") and "=" not in encoded
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@pytest.mark.parametrize(("index", "byte", "value"), [
    (0, 0, 0b1000_0000),  # bit 0 is the left-most bit of the first byte
    (1, 0, 0b0100_0000),
    (7, 0, 0b0000_0001),
    (8, 1, 0b1000_0000),
    (13, 1, 0b0000_0100),
    (MIN_LENGTH - 1, MIN_LENGTH // 8 - 1, 0b0000_0001),
])
def test_known_bit_positions(index: int, byte: int, value: int) -> None:
    bits = Bitstring()
    bits.set(index)
    data = raw(bits.encode())
    assert len(data) == 16_384
    assert data[byte] == value
    assert sum(1 for b in data if b) == 1
    assert bits.get(index) and bits.set_indexes() == [index]
    bits.clear(index)
    assert not bits.get(index) and not any(raw(bits.encode()))


def test_encoded_list_is_multibase_base64url_of_gzip_without_padding() -> None:
    bits = Bitstring()
    for index in (0, 5, 4711, 94_567, MIN_LENGTH - 1):
        bits.set(index)
    encoded = bits.encode()
    assert encoded[0] == "u" and "=" not in encoded and "+" not in encoded and "/" not in encoded
    assert raw(encoded) == bits.to_bytes()
    assert Bitstring.decode(encoded).set_indexes() == [0, 5, 4711, 94_567, MIN_LENGTH - 1]
    assert bits.encode() == encoded  # the same bits always give the same text


def test_the_specifications_example_decodes_to_an_empty_list() -> None:
    bits = Bitstring.decode(SPEC_EXAMPLE)
    assert bits.length == MIN_LENGTH and bits.set_indexes() == []


def test_a_list_that_inflates_beyond_reason_is_refused() -> None:
    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(MAX_BYTES + 8), mtime=0)).decode().rstrip("=")
    assert len(bomb) < 40_000
    with pytest.raises(StatusListError, match="inflates to more than"):
        Bitstring.decode(bomb)


def test_multi_bit_statuses() -> None:
    bits = Bitstring()
    bits.set_value(3, 0b10, size=2)
    assert bits.value(3, size=2) == 2 and bits.set_indexes() == [6]
    with pytest.raises(StatusListError):
        bits.set_value(3, 4, size=2)


def test_lists_below_the_minimum_or_malformed_are_refused() -> None:
    with pytest.raises(StatusListError, match="fewer than the minimum"):
        Bitstring.decode(Bitstring(1024).encode())
    with pytest.raises(StatusListError, match="base64url"):
        Bitstring.decode("z" + SPEC_EXAMPLE[1:])
    with pytest.raises(StatusListError, match="GZIP"):
        Bitstring.decode("u" + base64.urlsafe_b64encode(b"not gzip").decode().rstrip("="))
    with pytest.raises(StatusListError, match="GZIP"):
        Bitstring.decode(Bitstring().encode()[:40])
    with pytest.raises(StatusListError, match="outside"):
        Bitstring().get(MIN_LENGTH)
    with pytest.raises(StatusListError):
        IndexAllocator(1024)


def test_indexes_are_random_unique_and_not_in_issue_order() -> None:
    allocator = IndexAllocator(rng=random.Random(20261123))
    indexes = [allocator.allocate() for _ in range(2000)]
    assert len(set(indexes)) == 2000
    assert indexes != sorted(indexes)
    # Spread over the whole list, not clustered at the start.
    assert min(indexes) < MIN_LENGTH // 10 and max(indexes) > MIN_LENGTH * 9 // 10
    # About half the steps go up, half down: no trace of issue order.
    assert 900 < sum(1 for a, b in itertools.pairwise(indexes) if b > a) < 1100
    assert allocator.free == MIN_LENGTH - 2000


def test_allocation_skips_taken_indexes_and_fills_a_list_to_the_last_one() -> None:
    free = {11, 4711, 99_999, MIN_LENGTH - 1}
    allocator = IndexAllocator(taken=(i for i in range(MIN_LENGTH) if i not in free), rng=random.Random(1))
    assert {allocator.allocate() for _ in range(4)} == free
    with pytest.raises(StatusListError, match="full"):
        allocator.allocate()


def test_entry_is_what_the_specification_names() -> None:
    entry = status_entry(LIST_URL, INDEX)
    assert entry == {
        "id": f"{LIST_URL}#{INDEX}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }
    assert entry["id"] != entry["statusListCredential"]


@pytest.mark.parametrize(("url", "purpose"), [(LIST_URL, StatusPurpose.REVOCATION),
                                              (SUSPENSION_LIST_URL, StatusPurpose.SUSPENSION)])
def test_status_list_credential_is_signed_and_verifies(url: str, purpose: StatusPurpose) -> None:
    key = signing_key()
    listed = signed_status_list(revoked=(INDEX,), key=key, url=url, purpose=purpose)
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert listed["id"] == url and listed["issuer"] == DID
    assert listed["credentialSubject"]["type"] == "BitstringStatusList"
    assert listed["credentialSubject"]["statusPurpose"] == purpose.value
    assert verify_proof(listed, {f"{DID}#{key.kid}": key.public}).verified
    flipped = Bitstring.decode(listed["credentialSubject"]["encodedList"])
    flipped.clear(INDEX)
    listed["credentialSubject"]["encodedList"] = flipped.encode()
    assert not verify_proof(listed, {f"{DID}#{key.kid}": key.public}).verified


def test_reading_a_status() -> None:
    entry = status_entry(LIST_URL, INDEX)
    assert read_status(entry, signed_status_list(revoked=(INDEX,))).is_set
    assert not read_status(entry, signed_status_list(revoked=(INDEX + 1, INDEX - 1))).is_set


@pytest.mark.parametrize(("change", "reason"), [
    ({"statusListIndex": 5}, "base-10 integer written as a string"),
    ({"statusListIndex": "-1"}, "base-10 integer"),
    ({"statusListIndex": str(MIN_LENGTH)}, "outside the list"),
    ({"statusPurpose": "suspension"}, "the list's is 'revocation'"),
    ({"statusPurpose": "deleted"}, "unknown statusPurpose"),
    ({"statusListCredential": "https://mimis.skane.se/status/revocation/2"}, "the list fetched is"),
    ({"type": "StatusList2021Entry"}, "BitstringStatusListEntry"),
    ({"statusSize": 0}, "statusSize"),
])
def test_an_entry_that_disagrees_with_its_list_is_an_error(change: dict[str, object], reason: str) -> None:
    entry = {**status_entry(LIST_URL, INDEX), **change}
    with pytest.raises(StatusListError, match=reason):
        read_status(entry, signed_status_list())


def test_suspension_lists_work_alike() -> None:
    url = "https://mimis.skane.se/status/suspension/1"
    entry = status_entry(url, 7, StatusPurpose.SUSPENSION)
    listed = signed_status_list(revoked=(7,), url=url, purpose=StatusPurpose.SUSPENSION)
    status = read_status(entry, listed)
    assert status.is_set and status.purpose == "suspension"
    lifted = signed_status_list(revoked=(), url=url, purpose=StatusPurpose.SUSPENSION)
    assert not read_status(entry, lifted).is_set  # reversible: the bit is cleared again


def test_a_credentials_entries_whatever_their_number() -> None:
    old = {"credentialStatus": status_entry(LIST_URL, 1)}
    both = {"credentialStatus": [status_entry(LIST_URL, 1),
                                 status_entry(SUSPENSION_LIST_URL, 1, StatusPurpose.SUSPENSION)]}
    assert status_entries(old) == [old["credentialStatus"]] and status_entries({}) == []
    assert entry_for(old, StatusPurpose.SUSPENSION) is None
    assert entry_for(both, StatusPurpose.SUSPENSION) == both["credentialStatus"][1]
    assert entry_for(both, StatusPurpose.REVOCATION) == both["credentialStatus"][0]
