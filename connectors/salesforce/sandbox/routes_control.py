"""``/__sandbox__/``: fault injection, counters, simulated rep activity and outbound messages."""
from __future__ import annotations

from flask import Flask, Response

from connectors.salesforce.sandbox.http_common import Sandbox, json_object, json_response
from connectors.salesforce.sandbox.ids import to18
from connectors.salesforce.sandbox.values import to_json


def register(app: Flask, sandbox: Sandbox) -> None:
    """Add the control routes to ``app``."""
    faults, org = sandbox.faults, sandbox.org

    @app.get("/__sandbox__/counters")
    def counters() -> Response:
        with org.lock:
            updates = dict(org.update_counts)
        return json_response({**faults.snapshot(), "record_updates": updates})

    @app.post("/__sandbox__/counters/reset")
    def reset_counters() -> Response:
        faults.reset_counters()
        return json_response(faults.snapshot())

    @app.post("/__sandbox__/faults")
    def set_faults() -> Response:
        changes = json_object()
        try:
            faults.update(changes)
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
        if "lock_ids" in changes:
            times = changes.get("lock_times")
            with org.lock:
                org.locked_ids = {to18(str(i)): None if times is None else int(times)
                                  for i in changes["lock_ids"] or ()}
        return json_response({**faults.snapshot(), "lock_ids": sorted(org.locked_ids)})

    @app.post("/__sandbox__/expire-tokens")
    def expire_tokens() -> Response:
        return json_response({"expired": sandbox.tokens.expire_all()})

    @app.post("/__sandbox__/move")
    def move() -> Response:
        body = json_object()
        if not isinstance(body.get("Id"), str) or not isinstance(body.get("StageName"), str):
            return json_response({"error": "body must be {\"Id\": \"006...\", \"StageName\": \"...\"}"}, 400)
        with org.lock:
            record = org.move(body["Id"], body["StageName"])
            return json_response({"Id": record["Id"], "StageName": record["StageName"],
                                  "SystemModstamp": to_json("datetime", record["SystemModstamp"])})

    @app.post("/__sandbox__/outbound")
    def register_outbound() -> Response:
        url = json_object().get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return json_response({"error": "body must be {\"url\": \"https://...\"}"}, 400)
        sandbox.outbound.register(url)
        return json_response({"url": url})

    @app.get("/__sandbox__/outbound")
    def outbound_log() -> Response:
        return json_response(sandbox.outbound.snapshot())
