"""Phone numbers for calls and transfers: digits with an optional leading `+`, as upstream.

International (`+15551234567`), national (`07123456789`) and internal extensions (`1234`) are all
valid; there is deliberately no length or E.164 rule."""

from __future__ import annotations

# The rule below as a regular expression, for the API's documentation.
PHONE_NUMBER_PATTERN = r"^\s*\+?[0-9]+\s*$"


class InvalidPhoneNumber(ValueError):
    pass


def normalize_phone_number(value: str) -> str:
    """`tel:<number>` for a valid number; raises InvalidPhoneNumber with the reason otherwise."""
    number = value.strip()
    if not number:
        raise InvalidPhoneNumber("Phone number cannot be empty")
    digits = number[1:] if number.startswith("+") else number
    if not digits:
        raise InvalidPhoneNumber("Phone number must contain at least one digit")
    offset = len(number) - len(digits)
    for index, char in enumerate(digits, start=offset):
        if char == "+":
            raise InvalidPhoneNumber(
                f"Invalid character '+' at position {index} - plus sign is only allowed at the beginning"
            )
        if not ("0" <= char <= "9"):
            raise InvalidPhoneNumber(
                f"Invalid character '{char}' at position {index} - "
                "only digits (0-9) and optional leading '+' are allowed"
            )
    return f"tel:{number}"


def bare_number(tel: str) -> str:
    return tel[len("tel:") :] if tel.startswith("tel:") else tel
