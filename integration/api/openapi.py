"""The OpenAPI 3.1 document, built from the routes themselves so it cannot drift from them.

Each view's docstring gives the operation's summary; request bodies are declared below for the
operations that take one.
"""
from __future__ import annotations

import re

from flask import current_app, jsonify

from integration.api import bp

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}}}}}

MAP_BODY = {"type": "object", "properties": {
    "document": {"type": "string", "description": "The map file (YAML or JSON text)"},
    "map": {"type": "object", "description": "The map as a JSON object"},
    "comment": {"type": "string"}}}

BODIES = {
    "api.connections_create": {"type": "object", "required": ["name", "crm"], "properties": {
        "name": {"type": "string"}, "crm": {"type": "string", "enum": ["salesforce", "hubspot"]},
        "settings": {"type": "object", "description": "The CRM's settings, see GET /crms"},
        "sync_interval_seconds": {"type": "integer", "minimum": 60},
        "account_id": {"type": "string"}}},
    "api.connections_update": {"type": "object", "properties": {
        "sync_interval_seconds": {"type": "integer", "minimum": 60}}},
    "api.connections_sync": {"type": "object", "properties": {"full": {"type": "boolean"}}},
    "api.outbox_retry": {"type": "object", "properties": {
        "ids": {"type": "array", "items": {"type": "integer"}}}},
    "api.map_save": MAP_BODY,
    "api.map_validate": MAP_BODY,
    "api.map_preview": MAP_BODY,
    "api.workspace_map_save": MAP_BODY,
}

QUERY = {
    "api.records_list": ["object", "stage", "persona", "owner", "pipeline", "stalled", "sort",
                         "limit", "offset"],
    "api.analytics_funnel": ["object", "persona", "owner", "pipeline"],
    "api.analytics_time_in_stage": ["object", "persona", "owner", "pipeline"],
    "api.analytics_stalled": ["object", "persona", "owner", "pipeline", "stage"],
    "api.runs_list": ["limit"],
    "api.outbox_list": ["status", "limit"],
    "api.map_preview": ["sample"],
    "api.workspace_funnel": ["unit", "connection"],
}

_VAR = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def build_document() -> dict:
    """The OpenAPI document for every /api/v1 route of the running app."""
    paths: dict[str, dict] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint == "api.openapi_document":
            continue
        path = _VAR.sub(r"{\1}", rule.rule[len(bp.url_prefix):])
        view = current_app.view_functions[rule.endpoint]
        summary = (view.__doc__ or rule.endpoint).strip().splitlines()[0]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op = {"operationId": rule.endpoint.split(".", 1)[1], "summary": summary,
                  "parameters": [{"name": v, "in": "path", "required": True,
                                  "schema": {"type": "string"}} for v in _VAR.findall(rule.rule)]
                  + [{"name": q, "in": "query", "schema": {"type": "string"}}
                     for q in QUERY.get(rule.endpoint, [])],
                  "responses": {"200": {"description": "OK"},
                                "default": {"description": "Error", "content": {
                                    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}
            if rule.endpoint in BODIES:
                op["requestBody"] = {"content": {"application/json": {"schema": BODIES[rule.endpoint]}}}
            paths.setdefault(path, {})[method.lower()] = op
    return {"openapi": "3.1.0",
            "info": {"title": "Journey Sync API", "version": "1"},
            "servers": [{"url": bp.url_prefix}],
            "security": [{"bearer": []}],
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                           "schemas": {"Error": ERROR}},
            "paths": dict(sorted(paths.items()))}


@bp.get("/openapi.json")
def openapi_document():
    """This document."""
    return jsonify(build_document())
