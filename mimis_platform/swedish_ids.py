"""Swedish identifiers, validated as the Swedish Tax Agency defines them (see STANDARDS.md).

Organisation numbers identify providers. Personal identity numbers (personnummer) and
coordination numbers (samordningsnummer) identify people: they are validated here but never
stored or logged in clear by MIMIS (only a keyed HMAC is kept; see the issuance service).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_ORG = re.compile(r"^(?:16)?(\d{6})-?(\d{4})$")
_PERSONAL = re.compile(r"^(\d{2})?(\d{2})(\d{2})(\d{2})([-+]?)(\d{3})(\d)$")


def luhn_valid(digits: str) -> bool:
    """The Luhn check over a string of digits whose last digit is the check digit."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


class InvalidIdentifier(ValueError):
    """The value is not a valid identifier; the message says which rule it breaks."""


def normalise_organisation_number(value: str) -> str:
    """``NNNNNN-NNNN`` for a valid organisation number, else :class:`InvalidIdentifier`.

    Sole traders (enskild firma) have no organisation number of their own: they use their
    personal identity number, which fails the third-digit rule. MIMIS refuses those here on
    purpose, so no personal identity number enters the catalogue as a provider key; a sole
    trader registers with an F-tax organisation such as a cooperative, or through an
    umbrella provider.
    """
    match = _ORG.match(value.strip().replace(" ", ""))
    if not match:
        raise InvalidIdentifier("an organisation number has 10 digits, written NNNNNN-NNNN")
    digits = match.group(1) + match.group(2)
    if int(digits[2]) < 2:
        raise InvalidIdentifier(
            "the third digit of an organisation number is 2 or more (this looks like a personal "
            "identity number; sole traders cannot register with one)"
        )
    if not luhn_valid(digits):
        raise InvalidIdentifier("the check digit of the organisation number is wrong")
    return f"{digits[:6]}-{digits[6:]}"


@dataclass(frozen=True)
class PersonalIdentityNumber:
    """A valid personnummer or samordningsnummer in its 12-digit form ``YYYYMMDDNNNC``.

    ``repr`` and ``str`` never show the number, so it cannot slip into a log by accident.
    """

    twelve_digits: str
    coordination: bool

    def __repr__(self) -> str:
        return "PersonalIdentityNumber(<redacted>)"

    __str__ = __repr__


def parse_personal_identity_number(value: str, today: date | None = None) -> PersonalIdentityNumber:
    """Validate ``YYMMDD-NNNC``, ``YYMMDD+NNNC`` (100 or older), ``YYYYMMDDNNNC`` or
    ``YYYYMMDD-NNNC``, coordination numbers included (day + 60); Luhn over the 10-digit form."""
    today = today or date.today()
    match = _PERSONAL.match(value.strip().replace(" ", ""))
    if not match:
        raise InvalidIdentifier("a personal identity number is written YYMMDD-NNNC or YYYYMMDDNNNC")
    century, yy, mm, dd, sep, serial, check = match.groups()
    ten = f"{yy}{mm}{dd}{serial}{check}"
    if not luhn_valid(ten):
        raise InvalidIdentifier("the check digit of the personal identity number is wrong")
    day = int(dd)
    coordination = day > 60
    if coordination:
        day -= 60
    if century is None:
        year = 2000 + int(yy)
        if year > today.year:
            year -= 100
        if sep == "+":
            year -= 100
    else:
        year = int(century + yy)
    try:
        born = date(year, int(mm), day)
    except ValueError as exc:
        raise InvalidIdentifier("the date of birth in the personal identity number does not exist") from exc
    if born > today:
        raise InvalidIdentifier("the date of birth in the personal identity number is in the future")
    return PersonalIdentityNumber(f"{year:04d}{mm}{dd}{serial}{check}", coordination)
