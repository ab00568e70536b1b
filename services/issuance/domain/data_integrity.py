"""W3C Data Integrity proofs with the EdDSA cryptosuites (vc-di-eddsa): ``eddsa-rdfc-2022``
(what 1EdTech's conformance suite checks) and ``eddsa-jcs-2022``.

Both hash the same two things and sign their concatenation, proof configuration first:

    SHA-256(canonical proof configuration) || SHA-256(canonical document without its proof)

``rdfc`` canonicalises the RDF graph (RDFC-1.0 over JSON-LD, contexts from local copies only),
so JSON formatting does not matter but every property must be defined by a context, or it is
silently left out of what is signed: the verifier here refuses such documents ("safe mode").
``jcs`` canonicalises the JSON text itself (RFC 8785), so any edit at all breaks it.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785

from services.issuance.domain.jsonld import (
    CanonicalizationError,
    ContextNotAllowed,
    canonicalize,
    screen,
    undefined_terms,
)
from services.issuance.domain.keys import PublicKey, SigningKey
from services.issuance.domain.multibase import MultibaseError, decode_base58btc, encode_base58btc
from services.issuance.domain.verification import Check, CheckName, Verification, failed, passed

JsonObject = dict[str, Any]

DATA_INTEGRITY_PROOF = "DataIntegrityProof"
EDDSA_RDFC_2022 = "eddsa-rdfc-2022"
EDDSA_JCS_2022 = "eddsa-jcs-2022"
CRYPTOSUITES = (EDDSA_RDFC_2022, EDDSA_JCS_2022)
ASSERTION_METHOD = "assertionMethod"


class ProofError(ValueError):
    """A proof cannot be created from these inputs (the message says why)."""


def xsd_datetime(moment: datetime) -> str:
    """Seconds precision in UTC with a ``Z``, the form the specifications' examples use."""
    if moment.tzinfo is None:
        raise ProofError("a proof's time must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


# --- the cryptosuites' hashing ------------------------------------------------------------------


def _hash_data(cryptosuite: str, unsecured: JsonObject, proof_config: JsonObject) -> bytes:
    if cryptosuite == EDDSA_RDFC_2022:
        config, document = canonicalize(proof_config), canonicalize(unsecured)
        return hashlib.sha256(config.encode()).digest() + hashlib.sha256(document.encode()).digest()
    if cryptosuite == EDDSA_JCS_2022:
        return hashlib.sha256(rfc8785.dumps(proof_config)).digest() + hashlib.sha256(rfc8785.dumps(unsecured)).digest()
    raise ProofError(f"unsupported cryptosuite {cryptosuite!r} (supported: {', '.join(CRYPTOSUITES)})")


def _proof_config(unsecured: JsonObject, options: JsonObject) -> JsonObject:
    """The proof options canonicalised in the document's context (vc-di-eddsa §3.3.5 / §3.4.5)."""
    config = {k: v for k, v in options.items() if k != "proofValue"}
    if "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    return config


# --- signing --------------------------------------------------------------------------------------


def create_proof(
    document: JsonObject, key: SigningKey, options: JsonObject, *, check_terms: bool = True
) -> JsonObject:
    """The proof for ``document`` under exactly these proof options (type, cryptosuite, created,
    verificationMethod, proofPurpose, ...): the options plus ``proofValue``.

    ``check_terms`` refuses (for rdfc) a document using a term no context defines. It costs one
    more JSON-LD expansion, about as much as the canonicalization itself; a caller signing only
    what :func:`credential.build_credential` makes (whose every term the tests check) may skip it."""
    if options.get("type") != DATA_INTEGRITY_PROOF:
        raise ProofError(f"proof type must be {DATA_INTEGRITY_PROOF!r}")
    cryptosuite = options.get("cryptosuite")
    if cryptosuite not in CRYPTOSUITES:
        raise ProofError(f"unsupported cryptosuite {cryptosuite!r} (supported: {', '.join(CRYPTOSUITES)})")
    if "created" in options and _parse_datetime(options["created"]) is None:
        raise ProofError("proof 'created' must be an XML Schema dateTime with a time zone")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if cryptosuite == EDDSA_RDFC_2022 and check_terms:
        # Signing a property no context defines would sign a graph without it: refuse to issue
        # what a safe-mode verifier would refuse to accept.
        for part, what in ((unsecured, "document"), (_proof_config(unsecured, options), "proof options")):
            undefined = undefined_terms(part)
            if undefined:
                raise ProofError(
                    f"the {what} uses terms no @context defines, which eddsa-rdfc-2022 would not sign: "
                    + ", ".join(undefined)
                )
    signature = key.sign(_hash_data(cryptosuite, unsecured, _proof_config(unsecured, options)))
    return {**copy.deepcopy(options), "proofValue": encode_base58btc(signature)}


def add_proof(
    document: JsonObject,
    key: SigningKey,
    verification_method: str,
    *,
    created: datetime,
    cryptosuite: str = EDDSA_RDFC_2022,
    proof_purpose: str = ASSERTION_METHOD,
    check_terms: bool = True,
) -> JsonObject:
    """A copy of ``document`` secured with a Data Integrity proof."""
    if "proof" in document:
        raise ProofError("the document already carries a proof; this service signs each credential once")
    options: JsonObject = {
        "type": DATA_INTEGRITY_PROOF,
        "cryptosuite": cryptosuite,
        "created": xsd_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if cryptosuite == EDDSA_JCS_2022 and "@context" in document:
        # jcs signs JSON, and its verifier takes the document's contexts from the proof.
        options["@context"] = copy.deepcopy(document["@context"])
    return {**copy.deepcopy(document), "proof": create_proof(document, key, options, check_terms=check_terms)}


# --- verification -----------------------------------------------------------------------------


def verify_proof(
    document: Any,
    keys: Mapping[str, PublicKey],
    *,
    expected_purpose: str = ASSERTION_METHOD,
    now: datetime | None = None,
) -> Verification:
    """Check the document's single Data Integrity proof against the keys the issuer publishes
    (verification method id -> key, e.g. from :func:`keys.assertion_keys_from_did_document`,
    which lists only methods authorised for ``assertionMethod``)."""
    checks: list[Check] = []
    if not isinstance(document, dict):
        return Verification((failed(CheckName.FORMAT, "a secured document is a JSON object"),))
    too_much = screen(document)
    if too_much:
        return Verification((failed(CheckName.FORMAT, f"the document is {too_much}"),))
    proof = document.get("proof")
    if isinstance(proof, list):
        if len(proof) != 1:
            return Verification((failed(CheckName.PROOF, f"expected one proof, found {len(proof)}"),))
        proof = proof[0]
    if not isinstance(proof, dict):
        return Verification((failed(CheckName.PROOF, "the document carries no proof object"),))

    problem = _proof_problem(proof, expected_purpose, now)
    if problem:
        return Verification((failed(CheckName.PROOF, problem),))
    cryptosuite: str = proof["cryptosuite"]
    try:
        signature = decode_base58btc(proof["proofValue"])
    except MultibaseError as exc:
        return Verification((failed(CheckName.PROOF, f"proofValue: {exc}"),))
    if len(signature) != 64:
        return Verification((failed(CheckName.PROOF, f"an Ed25519 signature is 64 bytes, not {len(signature)}"),))
    checks.append(passed(CheckName.PROOF, f"{DATA_INTEGRITY_PROOF} with {cryptosuite} for {expected_purpose}"))

    vm_id: str = proof["verificationMethod"]
    key = keys.get(vm_id)
    if key is None:
        checks.append(failed(CheckName.VERIFICATION_METHOD,
                             f"{vm_id} is not a key the issuer publishes for {expected_purpose}"))
        return Verification(tuple(checks))
    checks.append(passed(CheckName.VERIFICATION_METHOD, f"{vm_id} is published for {expected_purpose}"))

    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in options:
        # The proof names the contexts it was made in; the document must start with them.
        proof_contexts = _as_list(options["@context"])
        doc_contexts = _as_list(document.get("@context"))
        if doc_contexts[: len(proof_contexts)] != proof_contexts:
            checks.append(failed(CheckName.CONTEXTS, "the document's @context does not start with the proof's"))
            return Verification(tuple(checks))
        unsecured["@context"] = options["@context"]

    if cryptosuite == EDDSA_RDFC_2022:
        try:
            undefined = undefined_terms(unsecured) + undefined_terms(_proof_config(unsecured, options))
        except ContextNotAllowed as exc:
            checks.append(failed(CheckName.CONTEXTS, str(exc)))
            return Verification(tuple(checks))
        except CanonicalizationError as exc:
            checks.append(failed(CheckName.CONTEXTS, str(exc)))
            return Verification(tuple(checks))
        checks.append(passed(CheckName.CONTEXTS, "every @context is held locally"))
        if undefined:
            checks.append(failed(CheckName.SAFE_MODE, "terms no @context defines (they would not be signed): "
                                 + ", ".join(sorted(set(undefined)))))
            return Verification(tuple(checks))
        checks.append(passed(CheckName.SAFE_MODE, "every property and type is defined by a context"))

    try:
        data = _hash_data(cryptosuite, unsecured, _proof_config(unsecured, options))
    except (CanonicalizationError, ContextNotAllowed, ValueError, TypeError) as exc:
        checks.append(failed(CheckName.SIGNATURE, f"cannot canonicalise the document: {exc}"))
        return Verification(tuple(checks))
    if key.verify(signature, data):
        checks.append(passed(CheckName.SIGNATURE, f"{cryptosuite} signature verifies with {vm_id}"))
    else:
        checks.append(failed(CheckName.SIGNATURE,
                             f"the {cryptosuite} signature does not match the document: it was changed after "
                             f"signing, or signed with another key"))
    return Verification(tuple(checks))


def _proof_problem(proof: JsonObject, expected_purpose: str, now: datetime | None) -> str | None:
    if proof.get("type") != DATA_INTEGRITY_PROOF:
        return f"proof type is {proof.get('type')!r}, not {DATA_INTEGRITY_PROOF!r}"
    if proof.get("cryptosuite") not in CRYPTOSUITES:
        return f"unsupported cryptosuite {proof.get('cryptosuite')!r} (supported: {', '.join(CRYPTOSUITES)})"
    if proof.get("proofPurpose") != expected_purpose:
        return f"proof purpose is {proof.get('proofPurpose')!r}, not {expected_purpose!r}"
    if not isinstance(proof.get("verificationMethod"), str):
        return "the proof names no verificationMethod"
    if not isinstance(proof.get("proofValue"), str):
        return "the proof has no proofValue"
    if "created" in proof and _parse_datetime(proof["created"]) is None:
        return "proof 'created' is not an XML Schema dateTime with a time zone"
    if "expires" in proof:
        expires = _parse_datetime(proof["expires"])
        if expires is None:
            return "proof 'expires' is not an XML Schema dateTime with a time zone"
        if now is not None and expires < now:
            return f"the proof expired at {proof['expires']}"
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
