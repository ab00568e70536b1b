from datetime import date

import pytest

from mimis_platform.swedish_ids import (
    InvalidIdentifier,
    luhn_valid,
    normalise_organisation_number,
    parse_personal_identity_number,
)

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize("value", ["556036-0793", "212000-0142", "202100-5489", "5560360793", "16556036-0793"])
def test_valid_organisation_numbers(value: str) -> None:
    assert normalise_organisation_number(value) == value[-11:] if "-" in value else value[:6] + "-" + value[6:]


@pytest.mark.parametrize(
    ("value", "why"),
    [("556016-0681", "check digit"), ("811218-9876", "third digit"), ("55603-0793", "10 digits"), ("abc", "10 digits")],
)
def test_invalid_organisation_numbers_say_why(value: str, why: str) -> None:
    with pytest.raises(InvalidIdentifier, match=why):
        normalise_organisation_number(value)


def test_luhn() -> None:
    assert luhn_valid("5560360793") and not luhn_valid("5560160681")


def test_personal_identity_numbers_in_every_form() -> None:
    # 811218-9876 is the Swedish Tax Agency's well-known test number.
    assert parse_personal_identity_number("811218-9876", TODAY).twelve_digits == "198112189876"
    assert parse_personal_identity_number("198112189876", TODAY).twelve_digits == "198112189876"
    old = parse_personal_identity_number("121212+1212", TODAY)
    assert old.twelve_digits.startswith("1912")
    coordination = parse_personal_identity_number("701063-2391", TODAY)
    assert coordination.coordination and coordination.twelve_digits == "197010632391"


@pytest.mark.parametrize(
    ("value", "why"), [("811218-9875", "check digit"), ("811318-9875", "does not exist"), ("x", "written")]
)
def test_invalid_personal_identity_numbers(value: str, why: str) -> None:
    with pytest.raises(InvalidIdentifier, match=why):
        parse_personal_identity_number(value, TODAY)


def test_the_number_never_shows_in_its_repr() -> None:
    pin = parse_personal_identity_number("811218-9876", TODAY)
    assert "8112" not in repr(pin) and "8112" not in str(pin) and "8112" not in f"{pin}"
