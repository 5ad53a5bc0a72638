"""Small pieces every API view uses: the services, JSON bodies, the caller's connection."""
from __future__ import annotations

from typing import Any, Callable

from flask import current_app, g, request

from integration import query_args
from integration.analytics import RecordFilter
from integration.api.errors import ApiError
from integration.query_args import BadArgument
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


def _checked(read: Callable[..., Any], *params: Any) -> Any:
    """``read(request.args, *params)`` (a :mod:`integration.query_args` reader); 400 when unusable."""
    try:
        return read(request.args, *params)
    except BadArgument as exc:
        raise ApiError(400, "BAD_PARAMETER", str(exc), exc.details) from None


def text_arg(name: str, max_length: int = 200) -> str | None:
    """A text query parameter of at most ``max_length`` characters, None when absent or empty."""
    return _checked(query_args.text_value, name, max_length)


def choice_arg(name: str, choices: list[str]) -> str | None:
    """A query parameter that must be one of ``choices``, None when absent; 400 otherwise."""
    return _checked(query_args.choice_value, name, choices)


def record_filter() -> RecordFilter:
    """The record filter given in the query string: filters, search ``q``, period ``from``/``to``;
    400 naming the first unusable parameter."""
    return _checked(query_args.record_filter)
