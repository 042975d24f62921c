"""JSON from a caller, refused as a whole when any part of it could not be handled downstream.

Python's `json.loads` accepts documents that later blow up far from the parser: lone surrogate escapes
(`"\\ud800"`) that no UTF-8 encoder, database driver or provider SDK can write; NUL characters, which
PostgreSQL's text columns refuse; integer literals longer
than Python converts (4,300 digits, a ValueError); `NaN`/`Infinity`, which are not JSON; and nesting
deep enough to exhaust the interpreter's stack (a RecursionError). Every request body and webhook is
parsed here instead, so each of those is one clear "invalid JSON" answer.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32  # our documents nest 3 deep; an SDK's extra fields a few more
_MAX_INTEGER_DIGITS = 32  # no field of ours takes an integer anywhere near 10^32


class InvalidJson(ValueError):
    """The reason, in words a caller can act on."""


def loads(data: bytes | str) -> Any:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidJson("not UTF-8") from None
    try:
        document = json.loads(data, parse_int=_integer, parse_constant=_constant)
    except RecursionError:
        raise InvalidJson(f"nested more than {MAX_DEPTH} levels deep") from None
    except InvalidJson:
        raise
    except ValueError as exc:  # json.JSONDecodeError included
        raise InvalidJson(_reason(exc)) from None
    _check(document, 1)
    return document


def _integer(literal: str) -> int:
    if len(literal.lstrip("-")) > _MAX_INTEGER_DIGITS:
        raise InvalidJson(f"an integer has more than {_MAX_INTEGER_DIGITS} digits")
    return int(literal)


def _constant(name: str) -> Any:
    raise InvalidJson(f"{name} is not a JSON value")


def _check(node: Any, depth: int) -> None:
    """Depth and strings, iteratively: a recursive walk would itself be the stack risk."""
    pending = [(node, depth)]
    while pending:
        value, level = pending.pop()
        if isinstance(value, str):
            check_string(value)
        elif isinstance(value, (dict, list)):
            if level > MAX_DEPTH:
                raise InvalidJson(f"nested more than {MAX_DEPTH} levels deep")
            if isinstance(value, dict):
                for key, item in value.items():
                    check_string(key)
                    pending.append((item, level + 1))
            else:
                pending.extend((item, level + 1) for item in value)


def check_string(value: str) -> None:
    """A string every layer can store and send: valid Unicode, and no NUL (PostgreSQL's text refuses it)."""
    if "\x00" in value:
        raise InvalidJson("a string holds a NUL character")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidJson("a string holds an unpaired surrogate escape (not valid Unicode)") from None


def _reason(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return str(exc)
