"""Reading sandbox seed files (format: shared/fixtures/README.md).

One file may hold both CRMs; each sandbox validates its own key. This module only parses the file
and checks the top level, so that a JSON syntax error or a misspelt top-level key is reported with
the file path and line before any sandbox starts.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

SEED_KEYS = ("salesforce", "hubspot")


class SeedError(ValueError):
    """A seed file is unreadable or malformed; the message names the file and where."""


def load_seed_file(path: str | Path) -> dict[str, Any]:
    """Parse a seed file and check its top-level keys. Raises :class:`SeedError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"{p}: cannot read seed file: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SeedError(f"{p}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise SeedError(f"{p}: the seed must be a JSON object with keys {', '.join(SEED_KEYS)}")
    unknown = [k for k in data if k not in SEED_KEYS]
    if unknown:
        raise SeedError(f"{p}: {unknown[0]}: unknown key (expected one of {', '.join(SEED_KEYS)})")
    return data


def format_validation_error(source: str, exc: ValidationError) -> str:
    """Turn a pydantic error into lines ``source: a.b[2].c: message``, one per problem."""
    lines = []
    for err in exc.errors():
        path = ""
        for part in err["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        lines.append(f"{source}: {path}: {msg}")
    return "\n".join(lines)
