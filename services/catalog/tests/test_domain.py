"""Pure domain rules of the catalogue: no I/O."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from services.catalog.domain import DraftMicroCredential, draft_micro_credential
from services.catalog.events import credential_drafted
from mimis_platform.contracts import CONTRACTS

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_a_draft_starts_at_version_one_and_is_announced() -> None:
    command = DraftMicroCredential(provider_id="hkr", title={"sv": "  Grundläggande vårdhygien ", "en": "Basic hygiene"})
    draft, events = draft_micro_credential(command, new_id="mc-1", now=NOW)
    assert (draft.id, draft.version, draft.status) == ("mc-1", 1, "draft")
    assert draft.title.sv == "Grundläggande vårdhygien"  # surrounding whitespace is not part of a title
    assert [(e.micro_credential_id, e.version) for e in events] == [("mc-1", 1)]


def test_the_drafted_event_fits_its_contract() -> None:
    command = DraftMicroCredential(provider_id="hkr", title={"sv": "Vårdhygien"})
    _, events = draft_micro_credential(command, new_id="mc-1", now=NOW)
    event = credential_drafted(events[0])
    CONTRACTS.validate(event.type, event.data)
    assert event.partition_key == "mc-1" and event.data["drafted_at"] == "2026-11-23T09:00:00Z"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"provider_id": "hkr", "title": {"en": "Only English"}}, "title.sv"),
        ({"provider_id": "hkr", "title": {"sv": "   "}}, "title.sv"),
        ({"provider_id": "Not An Id!", "title": {"sv": "x"}}, "provider_id"),
        ({"provider_id": "hkr", "title": {"sv": "x"}, "status": "published"}, "status"),
    ],
)
def test_invalid_commands_name_the_field(payload: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        DraftMicroCredential.model_validate(payload)
    assert field in {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}
