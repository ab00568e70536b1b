"""Learners' rights in this service: what an erased learner's reference becomes, and the one-way
marker that remembers an erasure without keeping the reference.

Nothing here does I/O: the storage applies these rules to the deliveries and payloads it holds.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

#: Issuance's pseudonymous learner id (the contracts' pattern).
LEARNER_REF = re.compile(r"^lr-[0-9a-f]{32}$")
#: What an erased learner's reference is replaced with in the records this service keeps.
ERASED = "erased"


def is_learner_ref(value: str) -> bool:
    return LEARNER_REF.fullmatch(value) is not None


def erasure_marker(learner_ref: str) -> str:
    """The ``_id`` that remembers an erasure: a SHA-256 of the reference, so an event about the
    learner that arrives late is recognised, while the marker itself names nobody (the reference
    is 128 random bits; the hash cannot be walked back to it)."""
    return "sha256:" + hashlib.sha256(learner_ref.encode()).hexdigest()


def scrub(value: Any, learner_ref: str) -> Any:
    """``value`` with every occurrence of ``learner_ref`` in its strings replaced by ``erased``
    (dicts and lists walked, keys kept; other values as they are)."""
    if isinstance(value, str):
        return value.replace(learner_ref, ERASED) if learner_ref in value else value
    if isinstance(value, dict):
        return {k: scrub(v, learner_ref) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, learner_ref) for v in value]
    return value
