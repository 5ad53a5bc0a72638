"""Small pieces every API view uses: the services, JSON bodies, the caller's connection."""
from __future__ import annotations

from typing import Any

from flask import current_app, g, request

from integration.api.errors import ApiError
from integration.services import Services
from integration.store.connections import NotFound, get_connection
from integration.store.models import Connection


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
