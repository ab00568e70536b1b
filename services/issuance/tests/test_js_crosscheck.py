"""MIMIS's eddsa-rdfc-2022 proofs checked by Digital Bazaar's JavaScript implementation
(jsonld.js and rdf-canonize: a canonicalizer independent of pyld), in safe mode.

It needs node and npm (both on these machines; the npm registry is reachable), and is part of
``make test``: a machine without them fails here with a message, it does not skip.

The npm packages are installed from ``crosscheck_js/package-lock.json`` into a temporary
directory (nothing lands in the work tree).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pyld import BUNDLED_CONTEXTS

from services.catalog.tests.factories import content
from services.issuance.domain import jsonld
from services.issuance.domain.keys import PublicKey
from services.issuance.domain.status_list import StatusPurpose
from services.issuance.tests.factories import (
    SUSPENSION_LIST_URL,
    both_entries,
    catalogue,
    key_ring,
    signed_credential,
    signed_status_list,
    signing_key,
    tampered,
    vector,
)

HERE = Path(__file__).resolve().parent / "crosscheck_js"



def _require_node() -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not found: install Node.js 20+ (Debian: apt-get install nodejs npm)")


def _did_key_document(vm: str) -> dict[str, Any]:
    did, fragment = vm.split("#")
    key = PublicKey.from_multikey("v", fragment)
    return {"@context": ["https://www.w3.org/ns/did/v1", jsonld.MULTIKEY_V1], "id": did,
            "verificationMethod": [{"id": vm, "type": "Multikey", "controller": did,
                                    "publicKeyMultibase": key.multikey}],
            "assertionMethod": [vm]}


def test_digital_bazaars_verifier_accepts_mimis_proofs_and_rejects_changed_ones(tmp_path: Path) -> None:
    _require_node()
    for name in ("package.json", "package-lock.json", "verify.mjs"):
        shutil.copy(HERE / name, tmp_path / name)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=tmp_path, check=True, timeout=300)

    old, new = signing_key("key-2026-01", 1), signing_key("key-2026-06", 2)
    ring = key_ring(old).rotate(new.public, datetime(2026, 6, 1, tzinfo=UTC))
    w3c = vector("eddsa-rdfc-2022_signedDataInt.json")
    full = signed_credential(new)
    documents = {
        "w3c-vector": w3c,
        "full": full,
        "signed-before-rotation": signed_credential(old),
        "minimal": signed_credential(new, catalogue=catalogue(content=content()), grade=None, evidence_url=None),
        "status-list": signed_status_list(revoked=(5, 94_567), key=new),
        # Since suspension exists: both status entries, and the suspension list.
        "both-entries": signed_credential(new, credential_status=both_entries()),
        "suspension-list": signed_status_list(revoked=(94_567,), key=new, url=SUSPENSION_LIST_URL,
                                              purpose=StatusPurpose.SUSPENSION),
        "changed-hours": tampered(full, ["credentialSubject", "achievement", "workloadHours"], 41),
        "changed-index": tampered(full, ["credentialStatus", "statusListIndex"], "94568"),
    }
    documents["changed-suspension-index"] = tampered(documents["both-entries"],
                                                     ["credentialStatus", 1, "statusListIndex"], "94568")
    payload = {
        "documents": documents,
        "didDocuments": {ring.did: ring.did_document(),
                         w3c["proof"]["verificationMethod"].split("#")[0]:
                             _did_key_document(w3c["proof"]["verificationMethod"])},
        # DID documents are not signed, so MIMIS holds no DID context; pyld ships the W3C's.
        "contexts": {url: jsonld.context_document(url) for url in jsonld.CONTEXT_FILES}
        | {jsonld.DID_V1: json.loads(BUNDLED_CONTEXTS[jsonld.DID_V1].read_text())},
    }
    run = subprocess.run(["node", "verify.mjs"], cwd=tmp_path, input=json.dumps(payload), capture_output=True,
                         text=True, check=True, timeout=120)
    results = {r["name"]: r for r in map(json.loads, run.stdout.splitlines())}
    for name in ("w3c-vector", "full", "signed-before-rotation", "minimal", "status-list", "both-entries",
                 "suspension-list"):
        assert results[name]["verified"], results[name]
    for name in ("changed-hours", "changed-index", "changed-suspension-index"):
        assert not results[name]["verified"] and "Invalid signature" in results[name]["error"]
