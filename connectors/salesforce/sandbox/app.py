"""The sandbox's HTTP app: Salesforce's REST, Tooling and OAuth paths, plus ``/__sandbox__/``.

Order of checks on a data API call follows Salesforce: the session (401 INVALID_SESSION_ID), then
the daily quota (403 REQUEST_LIMIT_EXCEEDED), then the request itself. Every data API response
carries ``Sforce-Limit-Info: api-usage=N/M``.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from flask import Flask, Response, request

from connectors.salesforce.sandbox import composite, routes_bulk, routes_control, routes_data, routes_oauth
from connectors.salesforce.sandbox.http_common import DATA, Sandbox, bearer, error_response, json_response
from connectors.salesforce.sandbox.org import RequestError
from connectors.salesforce.sandbox.routes_data import API_VERSIONS
from connectors.salesforce.sandbox.soql import SoqlError


def create_app(sandbox: Sandbox, info: Callable[[], dict[str, Any]]) -> Flask:
    """The Flask app serving one sandbox; ``info`` answers ``GET /__sandbox__/info``."""
    app = Flask("salesforce_sandbox")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    _register_gate(app, sandbox)
    _register_errors(app)
    routes_oauth.register(app, sandbox)
    routes_data.register(app, sandbox)
    composite.register(app, sandbox)
    routes_bulk.register(app, sandbox.bulk)
    routes_control.register(app, sandbox, info)
    return app


def _register_gate(app: Flask, sandbox: Sandbox) -> None:
    faults = sandbox.faults

    @app.before_request
    def gate() -> Response | None:
        rule = request.url_rule.rule if request.url_rule else request.path
        if rule.startswith("/__sandbox__") or request.url_rule is None:
            return None
        subrequest = bool(request.environ.get(composite.SUBREQUEST))
        if not subrequest:
            faults.count(f"{request.method} {rule.removeprefix(DATA)}")
        version = (request.view_args or {}).get("version")
        if version is not None and version not in API_VERSIONS:
            return error_response(404, "NOT_FOUND", "The requested resource does not exist")
        if subrequest:
            return None  # part of a composite call: authorised, counted and spent as that one call
        if not (rule.startswith(DATA) or rule == "/services/oauth2/userinfo"):
            return None
        if not sandbox.tokens.valid(bearer()):
            return error_response(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        if not rule.startswith(DATA):
            return None
        if not faults.spend():
            return error_response(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        if faults.draw_503():
            return error_response(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable, please retry shortly.")
        return None

    @app.after_request
    def limit_info(response: Response) -> Response:
        if request.path.startswith("/services/data/v"):
            response.headers["Sforce-Limit-Info"] = f"api-usage={faults.api_used}/{faults.daily_quota}"
        return response


def _register_errors(app: Flask) -> None:
    @app.errorhandler(RequestError)
    def request_error(exc: RequestError) -> Response:
        return json_response(exc.body(), exc.status)

    @app.errorhandler(SoqlError)
    def soql_error(exc: SoqlError) -> Response:
        return error_response(400, exc.code, exc.message)

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> Response:
        return error_response(404, "NOT_FOUND", "The requested resource does not exist")

    @app.errorhandler(405)
    def bad_method(_exc: Exception) -> Response:
        return error_response(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed.")
