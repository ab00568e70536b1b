"""The shared contract of a micro-credential's content, generated from the domain model.

``python -m services.catalog.schemas`` rewrites
``mimis_platform/contracts/shared/micro-credential-content.v1.json``; a test fails when the
file and the model disagree, so the contract and the code cannot drift apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from services.catalog.domain.model import MicroCredentialContent, ProviderDetails

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "mimis_platform" / "contracts" / "shared"
BASE = "https://mimis.skane.se/contracts/shared/"


def _schema(model: type, name: str, description: str) -> dict[str, Any]:
    schema = model.model_json_schema(mode="serialization")  # type: ignore[attr-defined]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": BASE + name, **schema,
            "description": description}


SHARED = {
    "micro-credential-content.v1.json": (
        MicroCredentialContent,
        "Everything a provider writes about one version of a micro-credential: the EU Council "
        "Recommendation's mandatory and optional elements plus the region's additions.",
    ),
    "provider-details.v1.json": (ProviderDetails, "What a provider says about itself in the catalogue."),
}


def render() -> dict[str, str]:
    return {name: json.dumps(_schema(model, name, text), indent=2, ensure_ascii=False) + "\n"
            for name, (model, text) in SHARED.items()}


if __name__ == "__main__":
    for name, text in render().items():
        (CONTRACTS_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote {CONTRACTS_DIR / name}")
