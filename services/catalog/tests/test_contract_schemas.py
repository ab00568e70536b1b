"""The shared contracts the catalog's events carry are generated from the domain model."""

from services.catalog.schemas import CONTRACTS_DIR, render


def test_shared_contracts_match_the_model() -> None:
    for name, text in render().items():
        assert (CONTRACTS_DIR / name).read_text(encoding="utf-8") == text, (
            f"{name} is out of date: run .venv/bin/python -m services.catalog.schemas")
