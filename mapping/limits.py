"""Hard limits on documents that arrive from outside, and a JSON reader that enforces them.

A real journey map is a few kilobytes holding a few hundred values, nested five or six deep; API
bodies and webhook batches are of the same order. The limits are far above that and far below what
can hold a process: an over-limit document is refused before any work that grows with it.
"""
from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

#: Largest map document, in bytes of UTF-8.
MAX_DOCUMENT_BYTES = 1_000_000
#: Most values (mappings, lists, scalars) a document may hold once YAML aliases are expanded.
MAX_NODES = 100_000
#: Deepest nesting of mappings and lists.
MAX_DEPTH = 32
#: Longest whole number, in digits (2**63 has 19).
MAX_INTEGER_DIGITS = 19

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class DocumentRejected(ValueError):
    """A document broke one of the limits or was not readable; the message says which, ``line`` where."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def check_integer_text(text: str) -> None:
    """Refuse a whole number written with more than :data:`MAX_INTEGER_DIGITS` digits."""
    digits = sum(char.isdigit() for char in text)
    if digits > MAX_INTEGER_DIGITS:
        raise DocumentRejected(f"number with {digits} digits is too large "
                               f"(at most {MAX_INTEGER_DIGITS} digits)")


def _parse_int(text: str) -> int:
    check_integer_text(text)
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise DocumentRejected(f"number {text[:40]} is out of range")
    return value


def _refuse_constant(name: str) -> Any:
    raise DocumentRejected(f"{name} is not a number JSON allows")


def loads_json(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that refuses over-deep nesting, huge or infinite numbers and NaN.

    Raises :class:`DocumentRejected` (a ValueError) for those and for malformed JSON, with the
    position where json reports one.
    """
    if _nesting_depth(text) > max_depth:
        raise DocumentRejected(f"nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_int=_parse_int, parse_float=_parse_float,
                          parse_constant=_refuse_constant)
    except DocumentRejected:
        raise
    except json.JSONDecodeError as exc:
        raise DocumentRejected(f"malformed JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        raise DocumentRejected(f"malformed JSON: {exc}") from None


def _nesting_depth(text: str | bytes) -> int:
    """The deepest bracket nesting of JSON text, strings skipped.

    Counting before parsing keeps json's recursive decoder away from hostile depths.
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    skeleton = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(1 if char in "[{" else -1 for char in skeleton), default=0)
