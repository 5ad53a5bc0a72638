"""The one control API every sandbox serves under ``/__sandbox__/``, whatever CRM it fakes.

The demo, the CLI, the benchmarks and the tests pull the same levers on every sandbox:

| route | body / answer |
|---|---|
| ``GET info`` | the sandbox's ``info()`` (URLs, tokens, app credentials, ``account_id``) |
| ``POST faults`` | ``{"latency_ms": 50, "error_share": 0.1, ...}``: added latency on every API call and a share of calls failing the way the CRM fails under load; CRM-specific keys (record locks, quota use...) may follow |
| ``GET counters`` / ``POST counters/reset`` | ``{"calls": N, "by_route": {...}, ...}``: API calls counted, by route |
| ``POST move`` | ``{"object": "deal", "id": "...", "stage": "closedwon"}``: a rep moves a record (history, modification stamp, notification) |
| ``POST notifications`` / ``GET notifications`` | ``{"url": "..."}``: send change notifications there, as a CRM admin would set up; the answer lists the deliveries made |
| ``POST expire-tokens`` | every issued access token expires now |

Each sandbox implements :class:`SandboxLevers`; :func:`register_controls` adds the routes. A bad
body is a 400 saying what is wrong.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Mapping, Protocol

from flask import Flask, jsonify, request

PREFIX = "/__sandbox__"


class SandboxLevers(Protocol):
    """What a sandbox does for each control route. Raise ValueError for a bad request."""

    def info(self) -> dict[str, Any]:
        """URLs, tokens, app credentials and ``account_id``."""

    def set_faults(self, latency_ms: float | None, error_share: float | None,
                   extra: Mapping[str, Any]) -> dict[str, Any]:
        """Apply the given settings (None leaves one unchanged); the settings now in force."""

    def counters(self) -> dict[str, Any]:
        """``{"calls": N, "by_route": {...}}`` plus CRM-specific counters."""

    def reset_counters(self) -> None:
        """Forget the per-route counts."""

    def move(self, object: str, id: str, stage: str, extra: Mapping[str, Any]) -> dict[str, Any]:
        """A rep moves record ``id`` of ``object`` to ``stage``; the record as the CRM shows it."""

    def subscribe(self, url: str, extra: Mapping[str, Any]) -> dict[str, Any]:
        """Send change notifications to ``url`` from now on."""

    def notifications(self) -> dict[str, Any]:
        """``{"deliveries": [...]}``: the notification deliveries made, oldest first, plus
        CRM-specific figures (failed attempts, pending)."""

    def expire_tokens(self) -> int:
        """Expire every issued access token; how many."""


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None and request.get_data():
        raise ValueError("the body must be a JSON object")
    if body is not None and not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body or {}


def _number(body: Mapping[str, Any], key: str, low: float, high: float | None) -> float | None:
    if body.get(key) is None:
        return None
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key} must be a number")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{key} must be between {low:g} and {high:g}" if high is not None
                         else f"{key} must be at least {low:g}")
    return float(value)


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} is required (a non-empty string)")
    return value


def _answers_400_for_bad_bodies(view: Callable[[], Any]) -> Callable[[], Any]:
    @functools.wraps(view)
    def guarded() -> Any:
        try:
            return view()
        except ValueError as exc:
            return jsonify({"error": str(exc)}), 400
    return guarded


def register_controls(app: Flask, levers: SandboxLevers) -> None:
    """Add the shared control routes to a sandbox's ``app``."""

    @app.get(f"{PREFIX}/info")
    @_answers_400_for_bad_bodies
    def control_info() -> Any:
        return jsonify(levers.info())

    @app.post(f"{PREFIX}/faults")
    @_answers_400_for_bad_bodies
    def control_faults() -> Any:
        body = _body()
        latency = _number(body, "latency_ms", 0, None)
        share = _number(body, "error_share", 0, 1)
        extra = {k: v for k, v in body.items() if k not in ("latency_ms", "error_share")}
        return jsonify(levers.set_faults(latency, share, extra))

    @app.get(f"{PREFIX}/counters")
    @_answers_400_for_bad_bodies
    def control_counters() -> Any:
        return jsonify(levers.counters())

    @app.post(f"{PREFIX}/counters/reset")
    @_answers_400_for_bad_bodies
    def control_reset() -> Any:
        levers.reset_counters()
        return jsonify(levers.counters())

    @app.post(f"{PREFIX}/move")
    @_answers_400_for_bad_bodies
    def control_move() -> Any:
        body = _body()
        extra = {k: v for k, v in body.items() if k not in ("object", "id", "stage")}
        return jsonify(levers.move(_text(body, "object"), _text(body, "id"), _text(body, "stage"),
                                   extra))

    @app.post(f"{PREFIX}/notifications")
    @_answers_400_for_bad_bodies
    def control_subscribe() -> Any:
        body = _body()
        url = _text(body, "url")
        if not url.startswith(("http://", "https://")):
            raise ValueError("url must be an http:// or https:// URL")
        return jsonify(levers.subscribe(url, {k: v for k, v in body.items() if k != "url"})), 201

    @app.get(f"{PREFIX}/notifications")
    @_answers_400_for_bad_bodies
    def control_notifications() -> Any:
        return jsonify(levers.notifications())

    @app.post(f"{PREFIX}/expire-tokens")
    @_answers_400_for_bad_bodies
    def control_expire() -> Any:
        return jsonify({"expired": levers.expire_tokens()})
