"""What every sandbox route shares: the running org's parts and Salesforce-shaped responses."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import Response, jsonify, request

from connectors.salesforce.sandbox.bulk import BulkJobs
from connectors.salesforce.sandbox.faults import Faults
from connectors.salesforce.sandbox.oauth import TokenAuthority
from connectors.salesforce.sandbox.org import Org, RequestError
from connectors.salesforce.sandbox.outbound import OutboundSender
from connectors.salesforce.sandbox.query import QueryEngine

#: The data API prefix as a Flask rule (``version`` is ``59.0``...).
DATA = "/services/data/v<version>/"


@dataclass(frozen=True, slots=True)
class Sandbox:
    """The parts one running sandbox serves; ``urls()`` gives the live instance and login URLs."""

    org: Org
    engine: QueryEngine
    tokens: TokenAuthority
    faults: Faults
    outbound: OutboundSender
    bulk: BulkJobs
    urls: Callable[[], dict[str, str]]


def json_response(body: Any, status: int = 200) -> Response:
    """``body`` as JSON with ``status``."""
    response = jsonify(body)
    response.status_code = status
    return response


def error_response(status: int, code: str, message: str, fields: list[str] | None = None) -> Response:
    """Salesforce's ``[{message, errorCode, fields?}]`` error body."""
    return json_response(RequestError(status, code, message, fields).body(), status)


def bearer() -> str | None:
    """The access token of the request's ``Authorization: Bearer`` (or ``OAuth``) header."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() in ("bearer", "oauth") else None


def json_object() -> dict[str, Any]:
    """The request's JSON object body, or a 400 JSON_PARSER_ERROR."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise RequestError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    return body
