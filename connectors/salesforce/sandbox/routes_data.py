"""``/services/data/vXX.X/``: versions, limits, SOQL, sObjects, composite collections, Tooling."""
from __future__ import annotations

import re

from flask import Flask, Response, request

from connectors.salesforce.sandbox.describe import describe_global, describe_object
from connectors.salesforce.sandbox.http_common import DATA, Sandbox, json_object, json_response
from connectors.salesforce.sandbox.org import RequestError
from connectors.salesforce.sandbox.values import to_json

#: The current release: Winter '27 (API 68.0), on every instance since October 2026.
CURRENT_API_VERSION = 68
API_VERSIONS = tuple(f"{v}.0" for v in range(31, CURRENT_API_VERSION + 1))
_SEASONS = ("Spring", "Summer", "Winter")


def _label(version: str) -> str:
    """Salesforce's release name of ``version``: three releases a year, 60.0 is Spring '24."""
    step = int(float(version)) - 60
    year = 24 + (step + 3) // 3 if step % 3 == 2 else 24 + step // 3
    return f"{_SEASONS[step % 3]} '{year}"


def register(app: Flask, sandbox: Sandbox) -> None:
    """Add the data and Tooling API routes to ``app``."""
    _register_basics(app, sandbox)
    _register_queries(app, sandbox)
    _register_records(app, sandbox)


def _register_basics(app: Flask, sandbox: Sandbox) -> None:
    faults = sandbox.faults

    @app.get("/services/data/")
    def versions() -> Response:
        return json_response([{"label": _label(v), "url": f"/services/data/v{v}",
                               "version": v} for v in API_VERSIONS])

    @app.get(DATA)
    def resources(version: str) -> Response:
        names = ("sobjects", "query", "queryAll", "limits", "composite", "tooling")
        return json_response({n: f"/services/data/v{version}/{n}" for n in names})

    @app.get(DATA + "limits/")
    def limits(version: str) -> Response:
        return json_response({"DailyApiRequests": {"Max": faults.daily_quota,
                                                   "Remaining": max(faults.daily_quota - faults.api_used, 0)},
                              "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
                              "DataStorageMB": {"Max": 5, "Remaining": 5}})


def _register_queries(app: Flask, sandbox: Sandbox) -> None:
    # Salesforce answers ``query?q=`` (jsforce's form) and ``query/?q=`` (simple-salesforce's) alike.
    def run_query(version: str, *, tooling: bool, include_deleted: bool) -> Response:
        soql = request.args.get("q")
        if not soql:
            raise RequestError(400, "MALFORMED_QUERY", "A query string has to be specified")
        match = re.search(r"batchSize=(\d+)", request.headers.get("Sforce-Query-Options", ""))
        return json_response(sandbox.engine.run(soql, version=version, tooling=tooling, include_deleted=include_deleted,
                                            batch_size=int(match.group(1)) if match else None))

    @app.get(DATA + "query/", strict_slashes=False)
    def query(version: str) -> Response:
        return run_query(version, tooling=False, include_deleted=False)

    @app.get(DATA + "queryAll/", strict_slashes=False)
    def query_all(version: str) -> Response:
        return run_query(version, tooling=False, include_deleted=True)

    @app.get(DATA + "tooling/query/", strict_slashes=False)
    def tooling_query(version: str) -> Response:
        return run_query(version, tooling=True, include_deleted=False)

    @app.get(DATA + "query/<locator>")
    @app.get(DATA + "queryAll/<locator>")
    def query_more(version: str, locator: str) -> Response:
        return json_response(sandbox.engine.more(locator, version))


def _register_records(app: Flask, sandbox: Sandbox) -> None:
    org = sandbox.org

    @app.get(DATA + "sobjects/")
    def sobjects(version: str) -> Response:
        return json_response(describe_global(org, version, sandbox.urls()["instance_url"]))

    @app.get(DATA + "sobjects/<name>/describe", strict_slashes=False)
    def describe(version: str, name: str) -> Response:
        with org.lock:
            return json_response(describe_object(org, org.sobject(name), version, sandbox.urls()["instance_url"]))

    @app.get(DATA + "sobjects/<name>/<record_id>")
    def get_record(version: str, name: str, record_id: str) -> Response:
        with org.lock:
            obj = org.sobject(name)
            record = org.get(obj.name, record_id)
            wanted = request.args.get("fields")
            fields = org.fields_named(obj, wanted.split(",")) if wanted else org.visible_fields(obj)
            body = {"attributes": {"type": obj.name,
                                   "url": f"/services/data/v{version}/sobjects/{obj.name}/{record['Id']}"}}
            body.update({f.name: to_json(f.type, org.value_of(f, record)) for f in fields})
        return json_response(body)

    @app.patch(DATA + "sobjects/<name>/<record_id>")
    def update_record(version: str, name: str, record_id: str) -> Response:
        with org.lock:
            org.update_one(org.sobject(name), record_id, json_object())
        return Response(status=204)

    @app.post(DATA + "sobjects/<name>/", strict_slashes=False)
    def create_record(version: str, name: str) -> Response:
        with org.lock:
            new_id = org.create_one(org.sobject(name), json_object())
        return json_response({"id": new_id, "success": True, "errors": []}, 201)

    @app.route(DATA + "composite/sobjects", methods=["PATCH", "POST"], strict_slashes=False)
    def composite(version: str) -> Response:
        body = json_object()
        records = body.get("records")
        if not isinstance(records, list):
            raise RequestError(400, "JSON_PARSER_ERROR", "records: a list of records is required")
        with org.lock:
            return json_response(org.write_collection(records, creating=request.method == "POST",
                                                      all_or_none=bool(body.get("allOrNone"))))

    @app.post(DATA + "tooling/sobjects/CustomField/", strict_slashes=False)
    def create_custom_field(version: str) -> Response:
        with org.lock:
            new_id = org.create_custom_field(json_object())
        return json_response({"id": new_id, "success": True, "errors": [], "warnings": [], "infos": []}, 201)

    @app.get(DATA + "tooling/sobjects/CustomField/<field_id>")
    def get_custom_field(version: str, field_id: str) -> Response:
        with org.lock:
            return json_response(org.custom_field_json(field_id, version))

    @app.patch(DATA + "tooling/sobjects/CustomField/<field_id>")
    def update_custom_field(version: str, field_id: str) -> Response:
        with org.lock:
            org.update_custom_field(field_id, json_object())
        return Response(status=204)
