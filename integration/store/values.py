"""JSON encoding of write-back values (canonical names; datetimes as ISO 8601 strings)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

#: Write-back fields whose values are datetimes.
DATETIME_FIELDS = frozenset({"stage_entered_at", "journey_updated_at"})


def values_to_json(values: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical write-back values -> a JSON-safe dict."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()}


def values_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`values_to_json`."""
    return {k: (datetime.fromisoformat(v) if k in DATETIME_FIELDS and isinstance(v, str) else v)
            for k, v in data.items()}
