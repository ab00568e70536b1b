"""The local JSON-LD contexts, the loader that serves only them, and MIMIS's own context
defining every term a credential carries (so eddsa-rdfc-2022 signs all of it)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld

from services.catalog.tests.factories import content
from services.issuance.domain import jsonld
from services.issuance.domain.credential import CONTEXTS
from services.issuance.domain.data_integrity import ProofError, add_proof
from services.issuance.domain.learner import Learner
from services.issuance.tests.factories import DID, ISSUED_AT, catalogue, credential, signing_key

PINNED = {
    "credentials-v2.jsonld": "8a9f494a89ecc51db093e90e84713e07e84d6d9204364a9b3c7868b21751236f",
    "ob-v3p0-context-3.0.3.json": "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
    "data-integrity-v2.jsonld": "0f77743daf5b4e8fc067fc5ba5b21044283053aa717fc6b0219843bed3b00363",
    "multikey-v1.jsonld": "c5f3806f8286920573221938917988a18a4cc5a09e968d29649613c7a1c2b1f6",
    "bitstring-status-list-v1.jsonld": "fd08cbf28ddd829ab2f1978c48f43ab07a112c1c90245a0cfac7ba721c65170c",
    "credentials-examples-v2.json": "57393fbc69d6efb9b9b5dc9cb6b9880b0944360abfe2eaf459c9e58cf2279d7c",
    # A published version of MIMIS's context never changes: signed credentials depend on it.
    "mimis-v1.jsonld": "f6f712755b9db04ec1c12fd702832d55cf19edf5052753cd170e2a2d0bc58375",
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_local_copies_are_the_pinned_documents(name: str) -> None:
    digest = hashlib.sha256((jsonld.CONTEXTS_DIR / name).read_bytes()).hexdigest()
    assert digest == PINNED[name], f"{name} changed; contexts/README.md says where it comes from"


def test_every_url_has_its_file() -> None:
    assert set(jsonld.CONTEXT_FILES.values()) == set(PINNED)
    for url in jsonld.CONTEXT_FILES:
        assert "@context" in jsonld.context_document(url)


def test_credential_names_vc_first_then_open_badges_then_mimis() -> None:
    assert credential()["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://mimis.skane.se/contexts/mimis-v1.jsonld",
    ]
    assert CONTEXTS[0] == jsonld.VC_V2


def test_loader_refuses_any_other_url_by_name() -> None:
    doc = {"@context": [jsonld.VC_V2, "https://example.org/contexts/evil.jsonld"], "name": "x"}
    with pytest.raises(jsonld.ContextNotAllowed) as refused:
        jsonld.canonicalize(doc)
    assert refused.value.url == "https://example.org/contexts/evil.jsonld"
    assert "never fetched" in str(refused.value)
    with pytest.raises(jsonld.ContextNotAllowed):
        jsonld.document_loader()("https://www.w3.org/2018/credentials/v1", {})


def test_a_lookalike_url_is_not_served() -> None:
    # Exact match only: no scheme, case or trailing-slash normalisation.
    for url in ("http://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/v2/",
                "https://purl.imsglobal.org/spec/ob/v3p0/context.json"):
        with pytest.raises(jsonld.ContextNotAllowed):
            jsonld.canonicalize({"@context": [url], "name": "x"})


def test_every_property_and_type_of_a_full_credential_is_defined() -> None:
    assert jsonld.undefined_terms(credential()) == []


def test_every_property_of_a_minimal_credential_is_defined() -> None:
    minimal = credential(
        catalogue=catalogue(content=content()), learner=Learner(email="a@b.se"), grade=None, assessed_on=None,
        evidence_url=None,
    )
    assert jsonld.undefined_terms(minimal) == []


def test_an_undefined_property_or_type_is_found() -> None:
    doc = credential()
    doc["nickname"] = "x"
    doc["credentialSubject"]["achievement"]["hoursOfSleep"] = 8
    doc["credentialSubject"]["achievement"]["type"] = ["Achievement", "Course"]
    assert set(jsonld.undefined_terms(doc)) == {"nickname", "hoursOfSleep", "Course"}


def test_canonical_form_has_a_statement_for_every_leaf_value() -> None:
    """A second, independent look at "nothing dropped": each string/number/boolean in the JSON
    (other than @context, ids and types, which become IRIs) appears as an RDF literal or IRI."""
    doc = credential()
    nquads = jsonld.canonicalize(doc)
    for path, value in _leaves(doc):
        if path[0] == "@context" or path[-1] in ("id", "type") or (isinstance(path[-1], int) and path[-2] == "type"):
            continue
        rendered = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else None
        found = (rendered is not None and rendered in nquads) or f"<{value}>" in nquads \
            or (isinstance(value, bool) and f'"{str(value).lower()}"' in nquads) \
            or (isinstance(value, int | float) and not isinstance(value, bool) and str(value) in nquads)
        assert found, f"{'/'.join(map(str, path))} = {value!r} is not in the signed graph"


def test_issuing_refuses_a_credential_with_an_undefined_term() -> None:
    doc = credential()
    doc["credentialSubject"]["achievement"]["secretNote"] = "not signed under rdfc"
    with pytest.raises(ProofError, match="secretNote"):
        add_proof(doc, signing_key(), f"{DID}#key-2026-01", created=ISSUED_AT)


def test_another_library_caching_a_different_document_for_our_url_does_not_change_what_we_sign() -> None:
    """pyld's default context cache is process-wide and keyed by URL; ours is private."""
    before = jsonld.canonicalize(credential())
    forged = json.loads(json.dumps(jsonld.context_document(jsonld.OB_V3P0)))
    forged["@context"]["Achievement"]["@context"]["creditsAvailable"]["@id"] = "https://evil.example/credits"

    def poisoning_loader(url: str, options: Any) -> dict[str, Any]:
        document = forged if url == jsonld.OB_V3P0 else jsonld.context_document(url)
        return {"contextUrl": None, "documentUrl": url, "document": document, "tag": "static"}

    poisoned = pyld_jsonld.normalize(credential(), {"algorithm": "URDNA2015", "format": "application/n-quads",
                                                    "documentLoader": poisoning_loader})
    assert "evil.example" in poisoned
    assert jsonld.canonicalize(credential()) == before


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _leaves(value, (*path, key))]
    if isinstance(node, list):
        return [leaf for i, value in enumerate(node) for leaf in _leaves(value, (*path, i))]
    return [(path, node)]
