"""Small pieces every API view uses: the services, JSON bodies, the caller's connection."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from flask import current_app, g, request

from integration.api.errors import ApiError
from integration.services import Services
from integration.store.connections import NotFound, get_connection
from integration.store.models import Connection

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def services() -> Services:
    """The app's services."""
    return current_app.extensions["journey"]


def json_body(required: bool = True) -> dict[str, Any]:
    """The request's JSON object; 400 for malformed JSON, JSON past the limits, or a non-object."""
    raw = request.get_data(cache=True)
    if not raw and not required:
        return {}
    if not request.is_json:
        raise ApiError(400, "BAD_JSON", "the request body must be a JSON object (Content-Type: "
                       "application/json)", {"content_type": request.content_type})
    try:
        data = current_app.json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "BAD_JSON", f"the request body is not acceptable JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "BAD_JSON", "the request body must be a JSON object, not "
                       + type(data).__name__)
    return data


def caller_connection(session: Any, ref: str) -> Connection:
    """The caller's connection ``ref`` (id or name); 404 if it is another tenant's or missing."""
    try:
        return get_connection(session, g.tenant_id, ref)
    except NotFound:
        raise ApiError(404, "NOT_FOUND", f"no connection {ref!r}") from None


def int_arg(name: str, default: int, *, low: int = 0, high: int = 10_000) -> int:
    """An integer query parameter within bounds; 400 otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "BAD_PARAMETER", f"{name}: must be a whole number") from None
    if not low <= value <= high:
        raise ApiError(400, "BAD_PARAMETER", f"{name}: must be between {low} and {high}")
    return value


def bool_arg(name: str) -> bool | None:
    """A true/false query parameter, None when absent; 400 for anything else."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ApiError(400, "BAD_PARAMETER", f"{name}: must be true or false")


def text_arg(name: str, max_length: int = 200) -> str | None:
    """A text query parameter of at most ``max_length`` characters, None when absent or empty."""
    raw = request.args.get(name)
    if raw is not None and len(raw) > max_length:
        raise ApiError(400, "BAD_PARAMETER", f"{name}: at most {max_length} characters")
    return raw or None


def choice_arg(name: str, choices: list[str]) -> str | None:
    """A query parameter that must be one of ``choices``, None when absent; 400 otherwise."""
    raw = request.args.get(name)
    if raw is not None and raw not in choices:
        raise ApiError(400, "BAD_PARAMETER", f"{name}: one of {', '.join(choices)}")
    return raw


def _date_arg(name: str) -> date | None:
    """An ISO date query parameter, None when absent or empty; 400 otherwise."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        # Only YYYY-MM-DD: fromisoformat alone would also take 20260101 or 2026-W01-1.
        if not ISO_DATE.fullmatch(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "BAD_PARAMETER", f"{name}: must be a date as YYYY-MM-DD, "
                       f"not {raw[:40]!r}") from None


def period_args() -> tuple[datetime | None, datetime | None]:
    """The period ``from``..``to`` (ISO dates, both days included) as [since, until) in UTC.

    400 when a date is malformed or ``from`` is after ``to``."""
    first, last = _date_arg("from"), _date_arg("to")
    if first is not None and last is not None and first > last:
        raise ApiError(400, "BAD_PARAMETER", f"from ({first}) is after to ({last})",
                       {"from": first.isoformat(), "to": last.isoformat()})
    since = datetime.combine(first, time(), timezone.utc) if first else None
    # The last day ends at the next midnight; there is none after 9999-12-31, so no upper bound.
    until = (datetime.combine(last + timedelta(days=1), time(), timezone.utc)
             if last is not None and last < date.max else None)
    return since, until
