"""API errors: one exception type, rendered as ``{"error": {"code", "message", "details"}}``."""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    """An error the API reports to its caller with a status code."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The JSON body of an error."""
    return {"error": {"code": code, "message": message, "details": details}}


def init_app(app: Flask) -> None:
    """Render ApiError and HTTP errors under /api as JSON; leave pages to their own handlers."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return jsonify(error_body(exc.code, exc.message, exc.details)), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not request.path.startswith(("/api/", "/webhooks/", "/cards/")):
            return exc
        code = (exc.name or "error").upper().replace(" ", "_")
        # Keep what the error says beyond its body: Allow on a 405, Retry-After on a 429.
        headers = [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]
        return jsonify(error_body(code, exc.description or exc.name)), exc.code, headers
