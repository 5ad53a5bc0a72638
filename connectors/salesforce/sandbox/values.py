"""Conversions between the sandbox's Python values and Salesforce's JSON representation."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

NUMERIC_TYPES = ("currency", "double", "percent")
TEXT_TYPES = ("string", "textarea", "picklist", "email", "id", "reference", "phone", "url")


class ValueTypeError(ValueError):
    """A JSON value does not fit the field's type (Salesforce answers JSON_PARSER_ERROR)."""


def now_utc() -> datetime:
    """The current time at Salesforce's precision (whole seconds)."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def format_datetime(value: datetime) -> str:
    """``2026-08-01T09:00:00.000+0000``, the way the REST API writes datetimes."""
    utc = value.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime:
    """Parse the datetime forms the REST API accepts (``Z``, ``+0000``, ``+00:00``, with or without ms)."""
    cleaned = text.strip()
    if cleaned.endswith("Z"):
        cleaned = cleaned[:-1] + "+00:00"
    if len(cleaned) > 5 and cleaned[-5] in "+-" and cleaned[-4:].isdigit():
        cleaned = cleaned[:-2] + ":" + cleaned[-2:]
    parsed = datetime.fromisoformat(cleaned)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def to_json(field_type: str, value: Any) -> Any:
    """The JSON value Salesforce returns for a stored value of ``field_type``."""
    if value is None:
        return None
    if field_type == "datetime":
        return format_datetime(value)
    if field_type == "date":
        return value.isoformat()
    if field_type in NUMERIC_TYPES:
        return float(value)
    return value


def from_json(field_type: str, value: Any) -> Any:
    """The stored value for a JSON value written to a field of ``field_type``."""
    if value is None:
        return None
    try:
        if field_type == "datetime":
            if isinstance(value, str):
                return parse_datetime(value)
        elif field_type == "date":
            if isinstance(value, str):
                return date.fromisoformat(value[:10])
        elif field_type == "boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
        elif field_type in NUMERIC_TYPES or field_type == "int":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return int(value) if field_type == "int" else float(value)
            if isinstance(value, str):
                return int(value) if field_type == "int" else float(value)
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    except ValueError:
        pass
    raise ValueTypeError(f"Cannot deserialize instance of {field_type} from value {value!r}")
