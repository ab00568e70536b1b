"""The personal-data inventory (issue 11): event schemas, their markings and PRIVACY.md agree.

Every property that is personal data carries ``x-personal-data`` (``direct``, ``pseudonym`` or
``about-person``) in its event schema; PRIVACY.md lists each marked field; no event type in use
carries a direct field (bar the one reasoned exception below); a property whose name looks
personal cannot be added without a marking; and ``redact_personal`` takes out exactly the direct
fields. Pure: reads files, no broker, no database.
"""

from __future__ import annotations

import copy
import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest

from mimis_platform.contracts import (
    CONTRACTS,
    PERSONAL_DATA_KINDS,
    REMOVED_PERSONAL_DATA,
    ContractRegistry,
    TopicRegistry,
)

PRIVACY_MD = Path(__file__).resolve().parents[2] / "PRIVACY.md"
SECTION = "## 4. Personal data in event schemas"
ROW = re.compile(r"^\|\s*`(?P<type>[^`]+)`\s*\|\s*`(?P<path>[^`]+)`\s*\|\s*(?P<marking>[a-z-]+)\s*\|\s*$")
V1 = "provider.assessment.recorded.v1"

# (b) Direct personal data in an event type still in use, allowed by name. Each is an open point
# in PRIVACY.md; the list must shrink, never grow without the DPO hearing of it.
DIRECT_IN_USE_ALLOWED = {
    (event_type, f"/details/contact/{field}"): "a provider's contact person (PRIVACY.md, open point 1)"
    for event_type in ("catalog.provider.registered.v1", "catalog.provider.updated.v1")
    for field in ("name", "email", "phone")
}

# (c) Words that make a property name look like personal data (compared per ``_``-separated word).
PERSONAL_WORDS = frozenset({
    "name", "email", "mail", "phone", "telephone", "mobile", "birth", "dob", "personnummer", "identity", "pin",
    "ssn", "learner", "grade", "evidence", "contact", "person", "personal", "reviewer", "member", "owner", "user",
    "subject", "actor", "recipient", "address", "by", "result", "assessed",
})
# Objects that describe a person: everything inside them must be marked.
PERSON_OBJECTS = frozenset({"learner", "contact", "person", "recipient", "reviewer", "owner", "member", "user"})
# Personal-looking names that are not personal data, with why: (event type pattern, path) -> reason.
NOT_PERSONAL = {
    ("catalog.credential.*", "/provider_name"): "the provider is an organisation",
    ("catalog.provider.*", "/details/name"): "the provider's own name: an organisation",
    ("catalog.credential.*", "/content/co_awarding_bodies/*/name"): "an awarding body is an organisation",
    ("catalog.credential.*", "/content/supervision/identity_verified"):
        "whether the course's assessment checks identity: a property of the course, not of a person",
}


def marked_fields() -> set[tuple[str, str, str]]:
    return {(event_type, path, marking) for event_type in CONTRACTS.schemas
            for path, marking in CONTRACTS.personal_fields(event_type).items()}


def listed_in_privacy_md() -> set[tuple[str, str, str]]:
    text = PRIVACY_MD.read_text(encoding="utf-8")
    assert SECTION in text, f"PRIVACY.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return {(m["type"], m["path"], m["marking"]) for line in section.splitlines() if (m := ROW.match(line))}


# -- (a) every marked field is in PRIVACY.md -----------------------------------------------------
def test_every_marked_field_of_every_event_schema_is_listed_in_privacy_md() -> None:
    marked, listed = marked_fields(), listed_in_privacy_md()
    assert marked, "no event schema marks any personal data: the markings are gone"
    missing = sorted(marked - listed)
    assert not missing, f"marked in the schemas but not listed in PRIVACY.md ({SECTION}): {missing}"
    stale = sorted(listed - marked)
    assert not stale, f"listed in PRIVACY.md but not (or differently) marked in the schemas: {stale}"


def test_every_marking_is_a_known_kind() -> None:
    assert {marking for _, _, marking in marked_fields()} <= set(PERSONAL_DATA_KINDS)
    bad = {"type": "object", "properties": {"email": {"type": "string", "x-personal-data": "yes"}}}
    with pytest.raises(ValueError, match="x-personal-data"):
        ContractRegistry({"test.thing.happened.v1": bad}, TopicRegistry())


# -- (b) no event type in use carries a direct field --------------------------------------------
def test_no_event_type_in_use_carries_a_direct_field() -> None:
    retired = {t for t in CONTRACTS.schemas if CONTRACTS.is_retired(t)}
    assert V1 in retired  # the provider format that carried learners' names
    direct_in_use = {(event_type, path) for event_type, path, marking in marked_fields()
                     if marking == "direct" and event_type not in retired}
    unexpected = sorted(direct_in_use - DIRECT_IN_USE_ALLOWED.keys())
    assert not unexpected, (
        f"event types in use carry directly identifying fields: {unexpected}. Name the person by a "
        f"pseudonym instead (learners: learner_ref), or retire the type")
    resolved = sorted(DIRECT_IN_USE_ALLOWED.keys() - direct_in_use)
    assert not resolved, f"no longer direct, take them off DIRECT_IN_USE_ALLOWED (and PRIVACY.md): {resolved}"


def test_no_event_type_in_use_names_a_learner_other_than_by_learner_ref() -> None:
    for event_type in CONTRACTS.schemas:
        if CONTRACTS.is_retired(event_type):
            continue
        fields = CONTRACTS.personal_fields(event_type)
        learner_fields = [path for path in fields if "learner" in path and path != "/learner_ref"]
        assert not learner_fields, f"{event_type} names a learner by {learner_fields}, not only by learner_ref"
        if "/learner_ref" in fields:
            assert fields["/learner_ref"] == "pseudonym", event_type


# -- (c) a personal-looking property cannot slip in unmarked --------------------------------------
def _allowed(event_type: str, path: str) -> bool:
    return any(fnmatch.fnmatchcase(event_type, pattern) and path == allowed for pattern, allowed in NOT_PERSONAL)


def _covered(path: str, paths: list[str], marked: dict[str, str]) -> bool:
    """Marked itself, or an object whose every innermost property is marked."""
    if path in marked:
        return True
    leaves = [p for p in paths if p.startswith(path + "/") and not any(q.startswith(p + "/") for q in paths)]
    return bool(leaves) and all(leaf in marked for leaf in leaves)


def unmarked_personal_looking(registry: ContractRegistry) -> list[tuple[str, str]]:
    """Properties named like personal data, or inside an object about a person, with no marking."""
    found = []
    for event_type in sorted(registry.schemas):
        paths, marked = registry.property_paths(event_type), registry.personal_fields(event_type)
        for path in paths:
            segments = [s.lower() for s in path.split("/")[1:] if s != "*"]
            if path.endswith("/*"):
                continue  # an array's items: the array property itself is judged
            looks_personal = bool(set(segments[-1].split("_")) & PERSONAL_WORDS) or segments[-1] == "e_mail"
            inside_person = any(set(s.split("_")) & PERSON_OBJECTS for s in segments[:-1])
            if (looks_personal or inside_person) and not _covered(path, paths, marked) and not _allowed(
                    event_type, path):
                found.append((event_type, path))
    return found


def test_every_personal_looking_property_is_marked_or_explained() -> None:
    unmarked = unmarked_personal_looking(CONTRACTS)
    assert not unmarked, (
        f"properties that look like personal data but carry no x-personal-data marking: {unmarked}. Mark them "
        f"(and list them in PRIVACY.md), or add them to NOT_PERSONAL with the reason they are not personal data")


def test_the_not_personal_list_names_only_properties_that_exist() -> None:
    for pattern, path in NOT_PERSONAL:
        types = [t for t in CONTRACTS.schemas if fnmatch.fnmatchcase(t, pattern)]
        assert types, pattern
        assert any(path in CONTRACTS.property_paths(t) for t in types), f"stale NOT_PERSONAL entry: {pattern} {path}"


def test_a_new_unmarked_personal_field_is_caught() -> None:
    """The check above, shown to bite: an event type that adds a learner's phone number unmarked."""
    schema = copy.deepcopy(CONTRACTS.schemas["provider.assessment.recorded.v2"])
    schema["properties"]["learner_phone"] = {"type": "string"}
    schema["properties"]["learner_details"] = {"type": "object", "properties": {"nickname": {"type": "string"}}}
    registry = ContractRegistry({**CONTRACTS.schemas, "provider.assessment.recorded.v3": schema}, TopicRegistry(),
                                CONTRACTS.shared)
    assert unmarked_personal_looking(registry) == [
        ("provider.assessment.recorded.v3", "/learner_details"),
        ("provider.assessment.recorded.v3", "/learner_details/nickname"),
        ("provider.assessment.recorded.v3", "/learner_phone"),
    ]


# -- (d) redact_personal removes the direct fields and nothing else --------------------------------
def v1_sample() -> dict[str, Any]:
    return {
        "provider_event_id": "ladok-2026-0001", "provider_id": "hkr", "micro_credential_id": "mc-vard-1",
        "version": 2,
        "learner": {"name": "Maja Svensson", "email": "maja.svensson@example.se", "date_of_birth": "1990-01-01",
                    "personal_identity_number": "19900101-0017", "language": "sv"},
        "result": "passed", "grade": "VG", "assessed_on": "2026-11-20",
        "evidence_url": "https://lms.example.se/evidence/0001",
    }


def leaves(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return {p: v for key, item in value.items() for p, v in leaves(item, f"{path}/{key}").items()}
    if isinstance(value, list):
        return {p: v for item in value for p, v in leaves(item, f"{path}/*").items()}
    return {path: value}


def test_redact_personal_removes_every_direct_field_of_a_v1_sample_and_nothing_else() -> None:
    sample = v1_sample()
    CONTRACTS.validate(V1, sample)  # a sample the contract accepts, every optional field present
    direct = {path for path, marking in CONTRACTS.personal_fields(V1).items() if marking == "direct"}
    assert direct == {"/learner/name", "/learner/email", "/learner/date_of_birth",
                      "/learner/personal_identity_number"}

    redacted = CONTRACTS.redact_personal(V1, sample)

    before, after = leaves(sample), leaves(redacted)
    assert before.keys() == after.keys()  # nothing added, nothing dropped
    changed = {path for path in before if before[path] != after[path]}
    assert changed == direct
    assert all(after[path] == REMOVED_PERSONAL_DATA for path in direct)
    assert sample == v1_sample()  # a copy: the event itself is untouched
    for secret in ("Maja", "maja.svensson@example.se", "1990-01-01", "19900101-0017"):
        assert secret not in repr(redacted)


def test_redact_personal_leaves_missing_and_null_fields_as_they_are() -> None:
    sample = v1_sample()
    del sample["learner"]["date_of_birth"]
    sample["learner"]["personal_identity_number"] = None
    redacted = CONTRACTS.redact_personal(V1, sample)
    assert "date_of_birth" not in redacted["learner"]
    assert redacted["learner"]["personal_identity_number"] is None
    assert redacted["learner"]["name"] == REMOVED_PERSONAL_DATA


def test_redact_personal_replaces_a_misshapen_value_that_should_hold_direct_fields() -> None:
    """An event refused for its shape may still carry a name: the misshapen value goes whole."""
    sample = {**v1_sample(), "learner": "Maja Svensson <maja.svensson@example.se>"}
    assert CONTRACTS.redact_personal(V1, sample)["learner"] == REMOVED_PERSONAL_DATA


def test_redact_personal_changes_nothing_in_an_event_without_direct_fields() -> None:
    data = {key: value for key, value in v1_sample().items() if key != "learner"}
    data["learner_ref"] = "lr-" + "0" * 32
    assert CONTRACTS.redact_personal("provider.assessment.recorded.v2", data) == data


def test_personal_fields_follow_references_into_shared_documents() -> None:
    """The contact person is marked in the shared provider-details document, reached by $ref."""
    assert CONTRACTS.personal_fields("catalog.provider.registered.v1") == {
        "/details/contact/email": "direct", "/details/contact/name": "direct", "/details/contact/phone": "direct"}
    details = {"name": "Högskolan Kristianstad", "organisation_number": "202100-1587", "kind": "university",
               "contact": {"name": "Anna Andersson", "email": "anna@hkr.example.se"}}
    redacted = CONTRACTS.redact_personal("catalog.provider.registered.v1", {"provider_id": "hkr", "details": details,
                                                                          "at": "2026-11-23T10:00:00Z"})
    assert redacted["details"]["contact"] == {"name": REMOVED_PERSONAL_DATA, "email": REMOVED_PERSONAL_DATA}
    assert redacted["details"]["name"] == "Högskolan Kristianstad"
