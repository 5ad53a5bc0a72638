"""The OpenAPI 3.1 document, built from the routes themselves so it cannot drift from them.

Each view's docstring gives the operation's summary; request bodies, query parameters, success
statuses and the error statuses beyond the common ones are declared below.
"""
from __future__ import annotations

import re

from flask import current_app, jsonify, request

from connectors import registry
from integration.api import bp
from integration.api.analytics import DEFAULT_PATHS, MAX_PATHS
from integration.api.analytics import UNITS as TREND_UNITS
from integration.api.connections import OUTBOX_STATUSES
from integration.api.errors import ApiError
from integration.api.records import COUNTS, CSV_COLUMNS, FORMATS
from integration.query_args import TEXT_FILTERS
from integration.people import UNITS
from integration.record_pages import COUNT_LIMIT, DIRECTIONS, SORTS
from integration.store.types import MAX_ID
from mapping.analytics import FUNNEL_TYPES

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}}}}}

MAP_BODY = {"type": "object", "properties": {
    "document": {"type": "string", "description": "The map file (YAML or JSON text)"},
    "map": {"type": "object", "description": "The map as a JSON object"},
    "comment": {"type": "string"}}}

STRING = {"type": "string", "maxLength": 200}
INTERVAL = {"type": "integer", "minimum": 60, "maximum": 30 * 86_400}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}

def _body_schema(endpoint: str) -> dict:
    """The request body schema of ``endpoint``; the CRM names come from the registry."""
    schema = BODIES[endpoint]
    if endpoint == "api.connections_create":
        properties = {**schema["properties"],
                      "crm": {**schema["properties"]["crm"], "enum": registry.names()}}
        return {**schema, "properties": properties}
    return schema


BODIES = {
    "api.connections_create": {"type": "object", "required": ["name", "crm"], "properties": {
        "name": {**STRING, "minLength": 1}, "crm": {"type": "string", "description": "A CRM plug-in's name, see GET /crms"},
        "settings": {"type": "object", "description": "The CRM's settings, see GET /crms"},
        "sync_interval_seconds": INTERVAL},
        "description": "The credentials are checked with one call to the CRM before anything is "
                       "saved; the account id comes from the CRM. 422 when the CRM refuses them, "
                       "409 when the account or the name is connected already."},
    "api.connections_update": {"type": "object", "minProperties": 1, "additionalProperties": False,
                               "properties": {
        "sync_interval_seconds": INTERVAL,
        "settings": {"type": "object", "minProperties": 1,
                     "description": "Reconnect: settings to replace (new credentials), checked "
                                    "with the CRM; they must reach the same account. A connection "
                                    "that needs reconnecting is active again afterwards."},
        "paused": {"type": "boolean", "description": "true pauses syncing, false resumes it"}}},
    "api.connections_sync": {"type": "object", "properties": {"full": {"type": "boolean"}}},
    "api.outbox_retry": {"type": "object", "properties": {
        "ids": {"type": "array", "maxItems": 1000, "items": ID}}},
    "api.map_save": MAP_BODY,
    "api.map_validate": MAP_BODY,
    "api.map_preview": MAP_BODY,
    "api.workspace_map_save": MAP_BODY,
}

#: Operations whose body may be left out.
OPTIONAL_BODIES = {"api.connections_sync", "api.outbox_retry", "api.map_preview"}

BOOLEAN = {"type": "string", "enum": ["true", "false"]}
DATE = {"type": "string", "format": "date",
        "description": "ISO date YYYY-MM-DD, the day included; from must not be after to"}
#: The filters, search and period every records and analytics endpoint takes (see README "API").
FILTERS = {"crm": {"type": "string", "description": "A CRM plug-in's name, see GET /crms"},
           **dict.fromkeys(TEXT_FILTERS, STRING), "stalled": BOOLEAN,
           "q": {**STRING, "description": "Case-insensitive search in the name, e-mail address and company: a substring, or the start of a word for one or two letters or digits"},
           "from": DATE, "to": DATE}

FUNNEL_TYPE = {"type": "string", "enum": list(FUNNEL_TYPES),
               "description": "A funnel type whose figures are also given as count and count_conversion"}

QUERY = {
    "api.records_list": {**FILTERS,
                         "sort": {"type": "string", "enum": list(SORTS),
                                  "description": "The column to sort by (default days_over); "
                                                 "stage in map order, persona by label, owner by "
                                                 "name; ties broken by record"},
                         "order": {"type": "string", "enum": list(DIRECTIONS),
                                   "description": "Default: desc for days_over and amount, asc "
                                                  "for the others; empty values come last"},
                         "format": {"type": "string", "enum": list(FORMATS)},
                         "count": {"type": "string", "enum": list(COUNTS),
                                   "description": "Also answer total and total_exact: capped "
                                                  f"counts up to {COUNT_LIMIT:,} (total_exact "
                                                  "false: more match), exact counts every "
                                                  "match (kept until the data changes)"},
                         "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
                         "after": {"type": "string", "maxLength": 400,
                                   "description": "The next page: the previous page's `next`"}},
    "api.analytics_funnel": {**FILTERS, "funnel": FUNNEL_TYPE},
    "api.analytics_time_in_stage": FILTERS,
    "api.analytics_stalled": FILTERS,
    "api.analytics_kpis": FILTERS,
    "api.analytics_outcomes": FILTERS,
    "api.analytics_cohorts": FILTERS,
    "api.analytics_trends": {**FILTERS, "unit": {"type": "string", "enum": list(TREND_UNITS),
                                                 "description": "Bucket by week or month (default)"}},
    "api.analytics_journeys": {**FILTERS, "paths": {
        "type": "integer", "minimum": 1, "maximum": MAX_PATHS,
        "description": f"How many common paths to list (default {DEFAULT_PATHS})"}},
    "api.runs_list": {"limit": {"type": "integer", "minimum": 1, "maximum": 500}},
    "api.outbox_list": {"status": {"type": "string", "enum": list(OUTBOX_STATUSES)},
                        "limit": {"type": "integer", "minimum": 1, "maximum": 1000}},
    "api.map_preview": {"sample": {"type": "integer", "minimum": 0, "maximum": 200}},
    "api.workspace_funnel": {**FILTERS, "funnel": FUNNEL_TYPE,
                             "unit": {"type": "string", "enum": list(UNITS)}, "connection": STRING},
}

#: Answers in other formats than JSON, by operation (chosen with the ``format`` parameter).
OTHER_CONTENT = {"api.records_list": {"text/csv": {"schema": {
    "type": "string", "description": "A header row (" + ", ".join(CSV_COLUMNS) + "), then one "
    "row per record; sent as an attachment"}}}}
#: Headers of those answers (absent from the JSON ones, so not required).
OTHER_HEADERS = {"api.records_list": {"Content-Disposition": {
    "description": "attachment; filename=... (with format=csv)", "schema": {"type": "string"}}}}

#: The success status of operations that do not answer 200.
SUCCESS = {"api.connections_create": "201", "api.map_save": "201", "api.workspace_map_save": "201",
           "api.connections_sync": "202",
           "api.connections_delete": "204"}

#: Error statuses beyond those every operation may answer.
ERRORS = {"api.connections_create": ["409", "422"], "api.connections_update": ["422"],
          "api.outbox_retry": ["422"], "api.map_save": ["422"], "api.workspace_map_save": ["422"],
          "api.map_validate": ["422"],
          "api.map_preview": ["422"], "api.connections_provision": ["502"],
          "api.map_coverage_view": ["502"]}

REASONS = {"400": "Malformed request: bad JSON, a parameter out of range, control characters",
           "401": "No or unknown credentials", "403": "A web session without its CSRF token",
           "404": "No such connection, run, version or record for this tenant",
           "405": "Method not allowed (the Allow header lists those that are)",
           "409": "A connection of that name exists", "413": "The request body is over the size limit",
           "422": "The body is well-formed but not valid; details lists every problem",
           "502": "The CRM refused or failed the call"}

_VAR = re.compile(r"<(?:([a-z]+):)?([a-z_]+)>")


def _error(status: str) -> dict:
    return {"description": REASONS[status], "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _responses(endpoint: str, has_body: bool) -> dict:
    success = SUCCESS.get(endpoint, "200")
    responses = {success: {"description": "No content"} if success == "204" else {
        "description": "OK", "content": {"application/json": {"schema": {"type": "object"}},
                                         **OTHER_CONTENT.get(endpoint, {})}}}
    if endpoint in OTHER_HEADERS:
        responses[success]["headers"] = OTHER_HEADERS[endpoint]
    statuses = ["400", "401", "403", "404", "405", *(["413"] if has_body else []), *ERRORS.get(endpoint, [])]
    responses.update({status: _error(status) for status in sorted(statuses)})
    return responses


def _query_schema(name: str, schema: dict) -> dict:
    """A query parameter's schema; the CRM names come from the registry."""
    return {**schema, "enum": registry.names()} if name == "crm" else schema


def _operation(rule, method: str) -> dict:
    view = current_app.view_functions[rule.endpoint]
    has_body = method in ("POST", "PUT", "PATCH")
    path_params = [{"name": name, "in": "path", "required": True,
                    "schema": ID if kind == "int" else {"type": "string", "minLength": 1}}
                   for kind, name in _VAR.findall(rule.rule)]
    query_params = [{"name": name, "in": "query", "schema": _query_schema(name, schema)}
                    for name, schema in QUERY.get(rule.endpoint, {}).items()]
    op = {"operationId": rule.endpoint.split(".", 1)[1],
          "summary": (view.__doc__ or rule.endpoint).strip().splitlines()[0],
          "parameters": path_params + query_params,
          "responses": _responses(rule.endpoint, has_body)}
    if rule.endpoint in BODIES:
        op["requestBody"] = {"required": rule.endpoint not in OPTIONAL_BODIES,
                             "content": {"application/json": {"schema": _body_schema(rule.endpoint)}}}
    return op


def build_document() -> dict:
    """The OpenAPI document for every /api/v1 route of the running app."""
    paths: dict[str, dict] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint == "api.openapi_document":
            continue
        path = _VAR.sub(r"{\2}", rule.rule[len(bp.url_prefix):])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, method)
    return {"openapi": "3.1.0",
            "info": {"title": "Journey Sync API", "version": "1"},
            "servers": [{"url": bp.url_prefix}],
            "security": [{"bearer": []}],
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                           "schemas": {"Error": ERROR}},
            "paths": dict(sorted(paths.items()))}


@bp.before_request
def refuse_undeclared_query_parameters() -> None:
    """400 for a query parameter the document does not declare for the operation: a misspelt
    filter must not silently widen an answer."""
    unknown = sorted(set(request.args) - set(QUERY.get(request.endpoint or "", {})))
    if unknown:
        raise ApiError(400, "BAD_PARAMETER", f"unknown query parameter(s): {', '.join(unknown)}",
                       {"allowed": sorted(QUERY.get(request.endpoint or "", {}))})


@bp.get("/openapi.json")
def openapi_document():
    """This document."""
    return jsonify(build_document())
