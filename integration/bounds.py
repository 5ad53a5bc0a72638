"""Bounds on every request, whichever door it comes in by (API, CRM endpoints, pages).

- bodies: at most ``max_body_bytes`` (werkzeug answers 413 past it, before reading the rest);
- JSON: the limits of :mod:`mapping.limits` (nesting, number size, no NaN/Infinity) and no NUL
  characters, which PostgreSQL cannot store in text;
- URLs: no NUL or other control characters in the path or the query string, and whole-number path
  parts that fit the database's 32-bit ids (a larger one is a 404, like any id that does not exist).
"""
from __future__ import annotations

from typing import Any

from flask import Flask, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from integration.store.types import MAX_ID
from mapping.limits import DocumentRejected, loads_json

_CONTROL = {chr(code) for code in range(32)} | {"\x7f"}


class IdConverter(IntegerConverter):
    """``<int:...>`` path parts: whole numbers from 0 to :data:`MAX_ID`; anything else is no route."""

    def __init__(self, map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def bounded_json(text: str | bytes) -> Any:
    """Parse JSON within the limits; raise :class:`DocumentRejected` (a ValueError) saying why."""
    data = loads_json(text)
    where = _first_nul(data, "")
    if where is not None:
        raise DocumentRejected(f"{where or 'the document'}: text must not contain NUL characters")
    return data


def _first_nul(data: Any, path: str) -> str | None:
    """The path of the first string (value or key) holding a NUL character, or None."""
    if isinstance(data, str):
        return path if "\x00" in data else None
    if isinstance(data, dict):
        for key, value in data.items():
            inner = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                return inner
            found = _first_nul(value, inner)
            if found is not None:
                return found
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found = _first_nul(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _check_url() -> None:
    """400 for control characters in the path or query string (NUL breaks PostgreSQL, the rest logs)."""
    parts = [request.path, *request.args.keys(), *request.args.values()]
    if any(char in _CONTROL for part in parts for char in part):
        raise BadRequest("the URL must not contain control characters")


def init_app(app: Flask, max_body_bytes: int) -> None:
    """Install the bounds on ``app``; call before any blueprint is registered (the id converter)."""
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = max_body_bytes
    app.url_map.converters["int"] = IdConverter
    app.before_request(_check_url)
