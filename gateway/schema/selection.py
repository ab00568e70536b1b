"""What a query selects below the current field (fragments included), to skip work nobody asked for."""

from __future__ import annotations

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection


def _names(selections: list[Selection]) -> set[str]:
    found: set[str] = set()
    for s in selections:
        if isinstance(s, SelectedField):
            found.add(s.name)
        elif isinstance(s, InlineFragment | FragmentSpread):
            found |= _names(s.selections)
    return found


def asks_for(info: Info, *names: str) -> bool:
    """Whether the current field's selection names any of ``names`` directly."""
    selected: set[str] = set()
    for field in info.selected_fields:
        selected |= _names(field.selections)
    return any(n in selected for n in names)
